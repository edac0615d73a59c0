// The backward phase: every started step (succeeded, failed or unknown) that has a compensation
// is compensated, in reverse order of starting. A compensation that keeps failing leaves the saga
// `stuck` with its reason, for an operator; nothing is dropped.
import type { AnyStep, CompensationContext } from './define.js';
import { toErrorInfo } from './errors.js';
import type { ErrorInfo } from './log.js';
import { DEFAULT_COMPENSATION_RETRY, backoffDelay, resolvePolicy, withStepTimeout } from './policy.js';
import type { SagaRun } from './run.js';
import { DEFAULT_STEP_TIMEOUT_MS } from './forward.js';

/** Returns 'compensated' or 'stuck'; the status record is durable when it resolves. */
export async function compensateAll(run: SagaRun, reason: ErrorInfo): Promise<'compensated' | 'stuck'> {
  if (run.status !== 'compensating') {
    run.rollingBack = true;
    run.buffer(
      run.cancel
        ? { type: 'status', status: 'compensating', reason, cancel: run.cancel }
        : { type: 'status', status: 'compensating', reason },
    );
    run.reason = reason;
  }
  const order = [...run.started].reverse();
  for (const name of order) {
    const entry = run.def.stepIndex.get(name);
    const state = run.steps.get(name);
    if (!entry || !state || state.compensated) continue;
    const step = entry.step;
    if (!step.compensate) continue; // nothing to undo for this step
    const failure = await compensateStep(run, step);
    if (failure) {
      if (run.scope.cancelled) throw run.scope.reason; // lease lost or shutting down: write nothing more
      await run.setStatus('stuck', failure);
      return 'stuck';
    }
  }
  await run.setStatus('compensated');
  return 'compensated';
}

async function compensateStep(run: SagaRun, step: AnyStep): Promise<ErrorInfo | undefined> {
  const state = run.stepState(step.name);
  const policy = resolvePolicy(DEFAULT_COMPENSATION_RETRY, step.compensationRetry);
  const timeoutMs = step.compensationTimeoutMs ?? step.timeoutMs ?? DEFAULT_STEP_TIMEOUT_MS;
  const hooks = run.env.hooks;
  const firstAttempt = state.compensationAttempts + 1;
  // Attempts are counted in the log, so a crash does not renew the budget; an operator retry does.
  const base = state.compensationBudgetBase ?? 0;
  const lastAttempt = base + policy.maxAttempts;
  const compensate = step.compensate;
  if (!compensate) return undefined;
  for (let attempt = firstAttempt; ; attempt++) {
    state.compensationAttempts = attempt;
    await run.write([{ type: 'compensation_started', step: step.name, attempt }]);
    const t0 = hooks.empty ? 0 : run.env.clock.now();
    if (!hooks.empty) hooks.emit('onCompensationStart', { ...run.eventBase, step: step.name, attempt });
    try {
      await withStepTimeout(
        (scope) => {
          // The base context keeps its lazy `signal` getter: add fields, do not spread it.
          const ctx = run.contextFor(step.name, attempt, scope) as CompensationContext<unknown, Record<string, unknown>, unknown>;
          ctx.forward = state.outcome;
          ctx.output = state.outcome === 'succeeded' ? state.output : undefined;
          return compensate(ctx);
        },
        timeoutMs,
        run.scope,
        `compensation of "${step.name}"`,
        run.env.clock,
      );
      state.compensated = true;
      run.buffer({ type: 'compensation_succeeded', step: step.name });
      if (!hooks.empty) emitEnd(run, step.name, attempt, t0, undefined);
      return undefined;
    } catch (err) {
      const error = toErrorInfo(err);
      if (!hooks.empty) emitEnd(run, step.name, attempt, t0, error);
      // A lost lease ends this owner's work at once; the new owner carries on.
      const willRetry = !run.scope.cancelled && attempt < lastAttempt && policy.retryable(err);
      run.buffer({ type: 'compensation_failed', step: step.name, attempt, error, willRetry });
      if (!willRetry) return { ...error, message: `compensation of "${step.name}" failed: ${error.message}` };
      const delayMs = backoffDelay(policy, attempt - base, run.env.clock.random);
      if (!hooks.empty) {
        hooks.emit('onRetry', { ...run.eventBase, step: step.name, phase: 'compensation', attempt, delayMs, error });
      }
      try {
        await run.env.clock.sleep(delayMs, run.scope.signal);
      } catch {
        return toErrorInfo(run.scope.reason);
      }
    }
  }
}

function emitEnd(run: SagaRun, step: string, attempt: number, t0: number, error: ErrorInfo | undefined): void {
  const durationMs = run.env.clock.now() - t0;
  const base = { ...run.eventBase, step, attempt, durationMs };
  run.env.hooks.emit('onCompensationEnd', error ? { ...base, ok: false, error } : { ...base, ok: true });
}
