// The store-step factory of the document sagas: every step writes stores under the saga's write
// context (id, fencing token, abort signal), has the same per-attempt timeout, and retries by its
// outage budget (outage-budget.ts) unless it says otherwise. The factory supplies those, so a step
// is its name and what it writes; `defineStep` types its output for `ctx.result(step)`.
import {
  defineStep,
  type CompensationContext,
  type RetryPolicy,
  type StepContext,
  type StepDefinition,
  type StepKind,
} from '../../saga/index.js';
import type { WriteContext } from '../../stores/types.js';

export interface StoreStepPolicy {
  /** Per-attempt timeout of each step (ms). */
  timeoutMs: number;
  /** The retry policy of a step by name; undefined: the engine's default. */
  retry: (step: string) => Partial<RetryPolicy> | undefined;
}

export interface StoreStepBody<I, O> {
  kind?: StepKind;
  /** Replaces `policy.retry(name)` when present, even as undefined (the engine's default). */
  retry?: Partial<RetryPolicy> | undefined;
  run(ctx: StepContext<I, unknown>, w: WriteContext): Promise<O>;
  compensate?(ctx: CompensationContext<I, unknown, O>, w: WriteContext): Promise<void>;
}

export type StoreStep<I, O, N extends string = string> = StepDefinition<I, unknown, O> & { name: N };

/** The write context of a step's attempt: the stores fence and abort with it. */
export function writeContext(ctx: { sagaId: string; fencingToken: number; signal: AbortSignal }): WriteContext {
  return { sagaId: ctx.sagaId, fencingToken: ctx.fencingToken, signal: ctx.signal };
}

export function storeStepFactory<I>(policy: StoreStepPolicy) {
  return function storeStep<O, N extends string>(name: N, body: StoreStepBody<I, O>): StoreStep<I, O, N> {
    const retry = Object.hasOwn(body, 'retry') ? body.retry : policy.retry(name);
    const { run, compensate } = body;
    return defineStep<I, O, N>({
      name,
      ...(body.kind === undefined ? {} : { kind: body.kind }),
      timeoutMs: policy.timeoutMs,
      ...(retry === undefined ? {} : { retry }),
      run: (ctx) => run(ctx, writeContext(ctx)),
      ...(compensate === undefined ? {} : { compensate: (ctx: CompensationContext<I, unknown, O>) => compensate(ctx, writeContext(ctx)) }),
    });
  };
}
