// The forward phase: runs stages in order, each step with its retry policy and timeout, a
// parallel group concurrently. Write-ahead: `step_started` is durable before `run` is called.
import type { CancelScope } from './cancel.js';
import type { AnyStep } from './define.js';
import { SagaError, toErrorInfo } from './errors.js';
import type { ErrorInfo, Json, LogRecord } from './log.js';
import { DEFAULT_RETRIABLE_RETRY, DEFAULT_STEP_RETRY, backoffDelay, resolvePolicy, withStepTimeout } from './policy.js';
import type { SagaRun } from './run.js';

export const DEFAULT_STEP_TIMEOUT_MS = 60_000;

/**
 * `suspendMs`: the step's next attempt is a durable timer; the engine writes what is buffered,
 * releases the saga until then, and stops running it here.
 */
export type StageResult = { ok: true } | { ok: false; step: string; error: ErrorInfo; suspendMs?: number };

/** Runs stages from `fromStage`; returns the first failure (the stage's steps are all settled). */
export async function runStages(run: SagaRun, fromStage: number): Promise<StageResult> {
  const stages = run.def.stages;
  for (let i = fromStage; i < stages.length; i++) {
    const stage = stages[i];
    if (!stage) continue;
    const todo = stage.steps.filter((s) => run.steps.get(s.name)?.outcome !== 'succeeded');
    if (todo.length === 0) continue;
    const result =
      todo.length === 1 && !stage.parallel ? await runStep(run, todo[0] as AnyStep, run.work, true) : await runGroup(run, todo);
    if (!result.ok) return result;
  }
  return { ok: true };
}

async function runGroup(run: SagaRun, steps: AnyStep[]): Promise<StageResult> {
  // One scope for the group: the first definitive failure cancels the siblings.
  const { scope: group, dispose } = run.work.child();
  try {
    const results = await Promise.all(
      steps.map(async (step) => {
        const r = await runStep(run, step, group, false);
        if (!r.ok && !group.cancelled) {
          group.cancel(new SagaError('STEP_ABORTED', `sibling step "${step.name}" failed`));
        }
        return r;
      }),
    );
    // Report the failure that caused the abort, not a sibling's STEP_ABORTED.
    const failures = results.filter((r): r is Extract<StageResult, { ok: false }> => !r.ok);
    return failures.find((f) => f.error.code !== 'STEP_ABORTED') ?? failures[0] ?? { ok: true };
  } finally {
    dispose();
  }
}

/**
 * Runs one step to success, or to its definitive failure (retries or time budget exhausted, or
 * not retryable). Attempt numbers and the first attempt's time are in the log, so a crash or a
 * takeover does not renew the budget (an operator retry does). A step running alone in its stage
 * (`alone`) turns a long backoff into a durable timer instead of sleeping with its lease held.
 */
export async function runStep(run: SagaRun, step: AnyStep, scope: CancelScope, alone: boolean): Promise<StageResult> {
  const state = run.stepState(step.name);
  const defaults = step.kind === 'retriable' ? DEFAULT_RETRIABLE_RETRY : DEFAULT_STEP_RETRY;
  const policy = resolvePolicy(defaults, step.retry);
  const timeoutMs = step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const hooks = run.env.hooks;
  const clock = run.env.clock;
  const firstAttempt = state.attempts + 1;
  const base = state.budgetBase ?? 0;
  const lastAttempt = base + policy.maxAttempts;
  if (policy.budgetMs !== undefined) state.since ??= clock.now();
  if (scope.cancelled) return { ok: false, step: step.name, error: toErrorInfo(scope.reason) };
  if (step.kind === 'pivot') run.pivotStarted = true; // from here on, cancel and deadline are refused
  for (let attempt = firstAttempt; ; attempt++) {
    state.attempts = attempt;
    state.outcome = 'unknown';
    if (!run.takePreStarted(step.name, attempt)) {
      const started: LogRecord =
        state.since === undefined
          ? { type: 'step_started', step: step.name, attempt }
          : { type: 'step_started', step: step.name, attempt, since: state.since };
      await run.write([started]);
    }
    const t0 = hooks.empty ? 0 : clock.now();
    if (!hooks.empty) hooks.emit('onStepStart', { ...run.eventBase, step: step.name, attempt });
    try {
      const call = (attemptScope: CancelScope): Promise<unknown> => step.run(run.contextFor(step.name, attempt, attemptScope));
      const output = await withStepTimeout(call, timeoutMs, scope, `step "${step.name}"`, run.env.clock);
      const json = toJson(output, step.name);
      state.outcome = 'succeeded';
      state.output = json;
      run.results[step.name] = json;
      run.buffer({ type: 'step_succeeded', step: step.name, output: json });
      if (!hooks.empty) emitEnd(run, step.name, attempt, t0, undefined);
      return { ok: true };
    } catch (err) {
      const error = toErrorInfo(err);
      const aborted = scope.cancelled;
      const inBudget = policy.budgetMs === undefined || clock.now() - (state.since ?? 0) < policy.budgetMs;
      const willRetry = !aborted && attempt < lastAttempt && inBudget && policy.retryable(err);
      state.error = error;
      if (!hooks.empty) emitEnd(run, step.name, attempt, t0, error);
      if (!willRetry) {
        state.outcome = 'failed';
        run.buffer({ type: 'step_failed', step: step.name, attempt, error, willRetry: false });
        return { ok: false, step: step.name, error };
      }
      let delayMs = backoffDelay(policy, attempt - base, clock.random);
      if (policy.budgetMs !== undefined) delayMs = Math.max(0, Math.min(delayMs, (state.since ?? 0) + policy.budgetMs - clock.now()));
      const durable = alone && delayMs > run.env.durableTimerThresholdMs;
      if (!hooks.empty) {
        hooks.emit('onRetry', { ...run.eventBase, step: step.name, phase: 'forward', attempt, delayMs, error, durable });
      }
      if (durable) {
        run.buffer({ type: 'step_failed', step: step.name, attempt, error, willRetry: true, retryInMs: delayMs });
        return { ok: false, step: step.name, error, suspendMs: delayMs };
      }
      run.buffer({ type: 'step_failed', step: step.name, attempt, error, willRetry: true });
      try {
        await clock.sleep(delayMs, scope.signal);
      } catch {
        state.outcome = 'failed';
        const abortedError = toErrorInfo(scope.reason);
        run.buffer({ type: 'step_failed', step: step.name, attempt, error: abortedError, willRetry: false });
        return { ok: false, step: step.name, error: abortedError };
      }
    }
  }
}

function emitEnd(run: SagaRun, step: string, attempt: number, t0: number, error: ErrorInfo | undefined): void {
  const durationMs = run.env.clock.now() - t0;
  const base = { ...run.eventBase, step, attempt, durationMs };
  run.env.hooks.emit('onStepEnd', error ? { ...base, ok: false, error } : { ...base, ok: true });
}

/** Outputs go to the log as JSON; `undefined` becomes null. Anything else non-JSON is an error. */
function toJson(value: unknown, step: string): Json {
  if (value === undefined || value === null) return null;
  const t = typeof value;
  if (t === 'string' || t === 'boolean') return value as Json;
  if (t === 'number') {
    if (!Number.isFinite(value)) throw new SagaError('SAGA_INPUT_INVALID', `step "${step}" returned a non-finite number`);
    return value as Json;
  }
  try {
    return JSON.parse(JSON.stringify(value)) as Json;
  } catch (err) {
    throw new SagaError('SAGA_INPUT_INVALID', `step "${step}" returned an output that is not JSON-serializable`, { cause: err });
  }
}
