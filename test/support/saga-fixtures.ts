// Test sagas whose steps record what they do, with failures chosen per test.
import { defineSaga, type SagaDefinition, type StepKind } from '../../src/saga/index.js';

export interface Trace {
  events: string[];
  /** Forward effects currently applied (a compensation removes its step's effect). */
  applied: Set<string>;
  /** Steps whose compensation succeeded, in order (each should appear once). */
  compensatedOk?: string[];
  /** Forward runs so far (all steps, all attempts). */
  runs?: number;
  /**
   * Simulated crash: the `at`-th forward run (1-based) hangs until its signal aborts, before or
   * after its effect applied, as if its process died there. `reached` is set when it happens.
   */
  crash?: { at: number; afterApply: boolean; reached: boolean };
}

export interface StepPlan {
  name: string;
  kind?: StepKind;
  /** Throw on these attempts (1-based); 'always' for every attempt. */
  failOn?: number[] | 'always';
  /** Whether a thrown failure happens after the effect applied ("maybe applied"). */
  failAfterApply?: boolean;
  retryable?: boolean;
  maxAttempts?: number;
  /** Compensation throws on these compensation calls (1-based count). */
  compensationFailOn?: number[] | 'always';
  compensationMaxAttempts?: number;
  hangMs?: number;
  timeoutMs?: number;
  noCompensation?: boolean;
  /** Parallel group id: consecutive steps with the same id run concurrently. */
  group?: string;
}

export class TestError extends Error {
  readonly code = 'TEST_FAILURE';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export function traceOf(): Trace {
  return { events: [], applied: new Set() };
}

/** Builds a saga from plans: each step adds its name to `applied`, each compensation removes it. */
export function planSaga(name: string, plans: StepPlan[], trace: Trace): SagaDefinition<{ n: number }, Record<string, unknown>> {
  const compCalls = new Map<string, number>();
  const stepDef = (p: StepPlan) => ({
    name: p.name,
    kind: p.kind ?? 'compensatable',
    timeoutMs: p.timeoutMs,
    retry: { maxAttempts: p.maxAttempts ?? 1, initialDelayMs: 1, maxDelayMs: 2 },
    compensationRetry: { maxAttempts: p.compensationMaxAttempts ?? 3, initialDelayMs: 1, maxDelayMs: 2 },
    run: async (ctx: { attempt: number; signal: AbortSignal }) => {
      trace.events.push(`run:${p.name}:${ctx.attempt}`);
      trace.runs = (trace.runs ?? 0) + 1;
      if (trace.crash && trace.runs === trace.crash.at) {
        trace.crash.reached = true;
        // A pivot is atomic: one that applied would succeed when run again, so its simulated
        // crash is before the effect only (else a failing pivot would contradict its own effect).
        if (trace.crash.afterApply && p.kind !== 'pivot') trace.applied.add(p.name);
        await new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)));
      }
      const fail = p.failOn === 'always' || (p.failOn?.includes(ctx.attempt) ?? false);
      if (p.hangMs) {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, p.hangMs);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            trace.events.push(`aborted:${p.name}`);
            reject(ctx.signal.reason as Error);
          });
        });
      }
      if (fail && !p.failAfterApply) throw new TestError(`${p.name} failed`, p.retryable ?? false);
      trace.applied.add(p.name);
      if (fail) throw new TestError(`${p.name} failed after applying`, p.retryable ?? false);
      return { step: p.name };
    },
    compensate:
      p.noCompensation || p.kind === 'retriable'
        ? undefined
        : async (ctx: { forward: string }) => {
            const n = (compCalls.get(p.name) ?? 0) + 1;
            compCalls.set(p.name, n);
            trace.events.push(`comp:${p.name}:${ctx.forward}`);
            if (p.compensationFailOn === 'always' || p.compensationFailOn?.includes(n)) {
              throw new TestError(`compensation of ${p.name} failed`, true);
            }
            trace.applied.delete(p.name);
            (trace.compensatedOk ??= []).push(p.name);
          },
  });
  let b = defineSaga<{ n: number }>(name, 1) as unknown as {
    step(d: unknown): typeof b;
    parallel(f: (g: { step(d: unknown): unknown }) => unknown): typeof b;
    build(): SagaDefinition<{ n: number }, Record<string, unknown>>;
  };
  for (let i = 0; i < plans.length; ) {
    const p = plans[i] as StepPlan;
    if (p.group) {
      const members: StepPlan[] = [];
      while (i < plans.length && plans[i]?.group === p.group) members.push(plans[i++] as StepPlan);
      b = b.parallel((g) => {
        let gg = g;
        for (const m of members) gg = gg.step(stepDef(m)) as typeof g;
        return gg;
      });
    } else {
      b = b.step(stepDef(p));
      i++;
    }
  }
  return b.build();
}
