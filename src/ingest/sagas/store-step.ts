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
import { busyHolder } from './document-guard.js';

export interface StoreStepPolicy {
  /** Per-attempt timeout of each step (ms). */
  timeoutMs: number;
  /** The retry policy of a step by name; undefined: the engine's default. */
  retry: (step: string) => Partial<RetryPolicy> | undefined;
  /** Told the holder when a step is refused STORE_BUSY (document-guard.ts busyHolder), before the
   * retry waits: the writer brings a holder whose owner died to its end meanwhile (holder.ts). */
  onBusy?: (holder: string) => void;
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
    const { onBusy } = policy;
    return defineStep<I, O, N>({
      name,
      ...(body.kind === undefined ? {} : { kind: body.kind }),
      timeoutMs: policy.timeoutMs,
      ...(retry === undefined ? {} : { retry }),
      run: onBusy === undefined ? (ctx) => run(ctx, writeContext(ctx)) : (ctx) => tellBusy(run(ctx, writeContext(ctx)), onBusy),
      ...(compensate === undefined ? {} : { compensate: (ctx: CompensationContext<I, unknown, O>) => compensate(ctx, writeContext(ctx)) }),
    });
  };
}

/** Passes a STORE_BUSY refusal's holder to `onBusy`, then the refusal on (the retry waits). */
async function tellBusy<O>(attempt: Promise<O>, onBusy: (holder: string) => void): Promise<O> {
  try {
    return await attempt;
  } catch (err) {
    const holder = busyHolder(err);
    if (holder !== undefined) onBusy(holder);
    throw err;
  }
}
