// The typed saga builder: defineSaga(name, version).step(...).parallel(...).build().
// Each step sees the typed results of the steps before it. Definitions are validated when built,
// so a saga that could not be recovered correctly is never run.
import { SagaError } from './errors.js';
import type { RetryPolicy } from './policy.js';

export type StepKind = 'compensatable' | 'pivot' | 'retriable';

/**
 * What recovery does with a saga whose owner stopped mid-step before the pivot (a crash, a lost
 * lease, a shutdown): `resume` (default) runs the interrupted step again (attempt + 1, same
 * idempotency key) and carries on; `compensate` rolls the saga back, for effects that cannot
 * safely run twice.
 */
export type OnInterrupt = 'resume' | 'compensate';

export interface StepContext<I, R> {
  sagaId: string;
  input: I;
  /** Outputs of the steps of earlier stages (as stored in the log: JSON round-tripped). */
  results: Readonly<R>;
  /**
   * The output of an earlier step that succeeded, else undefined; typed by the step itself
   * (`ctx.result(reserve)`, for a step made with defineStep or inline) or by name within a builder
   * chain (`ctx.result('reserve')`). As stored in the log: JSON round-tripped.
   */
  result: ResultReader<R>;
  /** 1 for the first attempt; also counts attempts made before a crash. */
  attempt: number;
  /** Stable across attempts and processes: `${sagaId}/${stepName}`. */
  idempotencyKey: string;
  /** Aborts on timeout, on a sibling's failure in a parallel group, or when the lease is lost. */
  signal: AbortSignal;
  /** The lease token of the owner running this attempt; stores that can, reject older tokens. */
  fencingToken: number;
}

export interface ResultReader<R> {
  <O>(step: { readonly name: string; run(ctx: never): Promise<O> }): O | undefined;
  <K extends keyof R & string>(name: K): R[K] | undefined;
}

/** `ctx.result` over a results record (the engine's, or a test's hand-made context). */
export function resultReader<R>(results: Readonly<Record<string, unknown>>): ResultReader<R> {
  return ((step: string | { name: string }) => results[typeof step === 'string' ? step : step.name]) as ResultReader<R>;
}

/**
 * A step defined on its own, outside a builder chain: its input type I and output type O are
 * fixed here, and it reads earlier steps' outputs with `ctx.result(step)`, typed by that step.
 * The builder accepts it like an inline step. Returns `def` unchanged (it only types it).
 */
export function defineStep<I, O, N extends string = string>(
  def: StepDefinition<I, unknown, O> & { name: N },
): StepDefinition<I, unknown, O> & { name: N } {
  return def;
}

export type StepOutcomeKind = 'succeeded' | 'failed' | 'unknown';

export interface CompensationContext<I, R, O> extends StepContext<I, R> {
  /** What is known of the forward action: it may have applied unless it is 'succeeded'. */
  forward: StepOutcomeKind;
  /** The step's output when it succeeded. */
  output: O | undefined;
}

export interface StepDefinition<I, R, O> {
  name: string;
  /** Default 'compensatable'. */
  kind?: StepKind;
  run(ctx: StepContext<I, R>): Promise<O>;
  /** Must be idempotent and must succeed when the forward action never happened. */
  compensate?(ctx: CompensationContext<I, R, O>): Promise<void>;
  retry?: Partial<RetryPolicy>;
  compensationRetry?: Partial<RetryPolicy>;
  /** Per attempt; default 60 s. */
  timeoutMs?: number;
  compensationTimeoutMs?: number;
  /** Overrides the definition's onInterrupt when this step is the one interrupted. */
  onInterrupt?: OnInterrupt;
}

/** A step with its types erased, as the engine holds it. */
export interface AnyStep {
  name: string;
  kind: StepKind;
  run(ctx: StepContext<unknown, Record<string, unknown>>): Promise<unknown>;
  compensate?: (ctx: CompensationContext<unknown, Record<string, unknown>, unknown>) => Promise<void>;
  retry?: Partial<RetryPolicy>;
  compensationRetry?: Partial<RetryPolicy>;
  timeoutMs?: number;
  compensationTimeoutMs?: number;
  onInterrupt?: OnInterrupt;
}

export interface Stage {
  /** One step, or several run concurrently (a parallel group). */
  steps: AnyStep[];
  parallel: boolean;
}

export interface SagaDefinition<I = unknown, R = Record<string, unknown>> {
  readonly name: string;
  readonly version: number;
  readonly stages: readonly Stage[];
  /** Index of the stage holding the pivot step, or -1. */
  readonly pivotStage: number;
  readonly stepIndex: ReadonlyMap<string, { stage: number; step: AnyStep }>;
  /** Recovery before the pivot: resume (default) or compensate. */
  readonly onInterrupt: OnInterrupt;
  /** Phantom fields carrying the input and results types. */
  readonly __types?: { input: I; results: R };
}

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

function erase<I, R, O>(def: StepDefinition<I, R, O>): AnyStep {
  return { ...def, kind: def.kind ?? 'compensatable' } as unknown as AnyStep;
}

export class GroupBuilder<I, R, G> {
  /** @internal */ readonly members: AnyStep[] = [];
  step<N extends string, O>(def: StepDefinition<I, R, O> & { name: N }): GroupBuilder<I, R, G & { [K in N]: O }> {
    this.members.push(erase(def));
    return this as unknown as GroupBuilder<I, R, G & { [K in N]: O }>;
  }
}

export class SagaBuilder<I, R> {
  private readonly stages: Stage[] = [];
  constructor(
    private readonly name: string,
    private readonly version: number,
    private readonly opts: SagaOptions = {},
  ) {}

  step<N extends string, O>(def: StepDefinition<I, R, O> & { name: N }): SagaBuilder<I, R & { [K in N]: O }> {
    this.stages.push({ steps: [erase(def)], parallel: false });
    return this as unknown as SagaBuilder<I, R & { [K in N]: O }>;
  }

  /** Steps that run concurrently; if one fails the others are aborted and all started are compensated. */
  parallel<G>(build: (group: GroupBuilder<I, R, unknown>) => GroupBuilder<I, R, G>): SagaBuilder<I, R & G> {
    const group = build(new GroupBuilder<I, R, unknown>());
    this.stages.push({ steps: [...group.members], parallel: true });
    return this as unknown as SagaBuilder<I, R & G>;
  }

  build(): SagaDefinition<I, R> {
    return validate(this.name, this.version, this.stages, this.opts.onInterrupt ?? 'resume');
  }
}

export interface SagaOptions {
  onInterrupt?: OnInterrupt;
}

export function defineSaga<I>(name: string, version = 1, opts: SagaOptions = {}): SagaBuilder<I, unknown> {
  return new SagaBuilder<I, unknown>(name, version, opts);
}

function invalid(name: string, message: string): SagaError {
  return new SagaError('SAGA_DEFINITION_INVALID', `saga "${name}": ${message}`);
}

function validate<I, R>(name: string, version: number, stages: Stage[], onInterrupt: OnInterrupt): SagaDefinition<I, R> {
  if (onInterrupt !== 'resume' && onInterrupt !== 'compensate') throw invalid(name, `onInterrupt must be resume or compensate`);
  if (!NAME.test(name)) throw invalid(name, 'name must be 1-128 of [A-Za-z0-9_.:-]');
  if (!Number.isInteger(version) || version < 1) throw invalid(name, `version must be a positive integer (got ${version})`);
  if (stages.length === 0) throw invalid(name, 'needs at least one step');
  const stepIndex = new Map<string, { stage: number; step: AnyStep }>();
  let pivotStage = -1;
  stages.forEach((stage, i) => {
    if (stage.steps.length === 0) throw invalid(name, `parallel group at stage ${i} is empty`);
    for (const step of stage.steps) {
      if (!NAME.test(step.name)) throw invalid(name, `step name "${step.name}" must be 1-128 of [A-Za-z0-9_.:-]`);
      if (stepIndex.has(step.name)) throw invalid(name, `step name "${step.name}" is used twice`);
      stepIndex.set(step.name, { stage: i, step });
      if (typeof step.run !== 'function') throw invalid(name, `step "${step.name}" has no run()`);
      const afterPivot = pivotStage >= 0;
      if (step.kind === 'pivot') {
        if (afterPivot) throw invalid(name, `step "${step.name}": only one pivot is allowed`);
        if (stage.parallel) throw invalid(name, `pivot "${step.name}" cannot be in a parallel group`);
        pivotStage = i;
      } else if (step.kind === 'retriable') {
        if (!afterPivot) throw invalid(name, `retriable step "${step.name}" must come after the pivot`);
        if (step.compensate) throw invalid(name, `retriable step "${step.name}" cannot have a compensation`);
      } else if (step.kind === 'compensatable') {
        if (afterPivot) throw invalid(name, `step "${step.name}" after the pivot must be retriable, not compensatable`);
      } else {
        throw invalid(name, `step "${step.name}" has unknown kind "${String(step.kind)}"`);
      }
      for (const t of [step.timeoutMs, step.compensationTimeoutMs]) {
        if (t !== undefined && !(t > 0)) throw invalid(name, `step "${step.name}": timeouts must be > 0 ms`);
      }
      for (const p of [step.retry, step.compensationRetry]) {
        if (p?.maxAttempts !== undefined && !((Number.isInteger(p.maxAttempts) || p.maxAttempts === Infinity) && p.maxAttempts >= 1)) {
          throw invalid(name, `step "${step.name}": retry.maxAttempts must be an integer >= 1`);
        }
        if (p?.budgetMs !== undefined && !(p.budgetMs > 0)) throw invalid(name, `step "${step.name}": retry.budgetMs must be > 0`);
      }
    }
  });
  return Object.freeze({ name, version, stages, pivotStage, stepIndex, onInterrupt });
}
