// Fault injection for tests and benches: wraps any store and makes chosen methods fail with
// STORE_INJECTED, before the real call (nothing applied) or after it (applied, but the caller
// sees a failure: the "maybe applied" case sagas must survive). Seeded, so a run replays exactly.
import { StoreError } from './errors.js';
import { mulberry32 } from '../lib/random.js';
import { interceptCalls } from '../lib/store-calls.js';
import type { StoreName } from './types.js';

export type FaultTiming = 'before' | 'after';

/** Deterministic schedule: fail the next `times` calls of `method` (after skipping `skip`). */
export interface ScheduledFault {
  method: string;
  times?: number;
  skip?: number;
  when: FaultTiming;
  retryable: boolean;
}

/** Random faults: each call of a listed method fails with probability `rate`. */
export interface RandomFaults {
  seed: number;
  rate: number;
  methods: string[];
  /** Fixed timing, or 'either' to draw it per fault. */
  when: FaultTiming | 'either';
  /** Share of injected faults that are retryable (0..1); default 1. */
  retryableShare?: number;
}

export interface FaultOptions {
  failOn?: ScheduledFault[];
  random?: RandomFaults;
}

export interface InjectedFault {
  method: string;
  when: FaultTiming;
  retryable: boolean;
  call: number;
}

export interface FaultControl {
  /** Every fault injected so far, in order. */
  injected(): InjectedFault[];
  /** Adds schedule entries at runtime (e.g. to fail the next call only). */
  schedule(fault: ScheduledFault): void;
  /** Stops all further injection (schedules and random). */
  disable(): void;
}

const STORE_NAMES: readonly StoreName[] = ['postgres', 'neo4j', 'qdrant', 'redis'];

function storeNameOf(target: object): StoreName {
  const name = (target as { name?: unknown }).name;
  return STORE_NAMES.find((n) => n === name) ?? 'postgres';
}

interface PendingSchedule extends ScheduledFault {
  remainingSkip: number;
  remainingTimes: number;
}

/**
 * Returns a proxy with the same interface as `store` plus a control handle, built on the one
 * store-call proxy (src/lib/store-calls.ts): only function-valued properties are intercepted.
 */
export function withFaults<T extends object>(store: T, options: FaultOptions): { store: T; faults: FaultControl } {
  const storeName = storeNameOf(store);
  const random = options.random;
  const rand = random ? mulberry32(random.seed) : undefined;
  const schedules: PendingSchedule[] = [];
  const log: InjectedFault[] = [];
  const calls = new Map<string, number>();
  let enabled = true;

  const addSchedule = (f: ScheduledFault): void => {
    schedules.push({ ...f, remainingSkip: f.skip ?? 0, remainingTimes: f.times ?? 1 });
  };
  for (const f of options.failOn ?? []) addSchedule(f);

  // Decides, at call time, whether this call fails and how.
  const decide = (method: string): Omit<InjectedFault, 'call'> | undefined => {
    if (!enabled) return undefined;
    const entry = schedules.find((s) => s.method === method && s.remainingTimes > 0);
    if (entry) {
      if (entry.remainingSkip > 0) {
        entry.remainingSkip -= 1;
      } else {
        entry.remainingTimes -= 1;
        return { method, when: entry.when, retryable: entry.retryable };
      }
    }
    if (random && rand && random.methods.includes(method) && rand() < random.rate) {
      const when: FaultTiming = random.when === 'either' ? (rand() < 0.5 ? 'before' : 'after') : random.when;
      const retryable = rand() < (random.retryableShare ?? 1);
      return { method, when, retryable };
    }
    return undefined;
  };

  const fail = (fault: InjectedFault): StoreError =>
    new StoreError(
      storeName,
      'STORE_INJECTED',
      `injected ${fault.retryable ? 'transient' : 'permanent'} fault ${fault.when} ${fault.method} (call ${fault.call})`,
      {
        retryable: fault.retryable,
      },
    );

  // Every method becomes async here (a fault is a rejection); the store interfaces are async anyway.
  // The one synchronous method, VectorCollections.withCollection, returns a store bound to another
  // collection: it is wrapped with this same schedule and log (a reindex's writes to the new
  // collection fail as the live ones do), and no fault is injected into the binding itself.
  const wrap = <S extends object>(target: S): S =>
    interceptCalls(target, (method, args, run) => {
      if (method === 'withCollection') return wrap(run() as object);
      return (async () => {
        const call = (calls.get(method) ?? 0) + 1;
        calls.set(method, call);
        const decided = decide(method);
        const fault = decided ? { ...decided, call } : undefined;
        if (fault?.when === 'before') {
          log.push(fault);
          throw fail(fault);
        }
        const result = await run();
        if (fault?.when === 'after') {
          log.push(fault);
          throw fail(fault);
        }
        return result;
      })();
    });
  const proxy = wrap(store);

  return {
    store: proxy,
    faults: {
      injected: () => [...log],
      schedule: addSchedule,
      disable: () => {
        enabled = false;
      },
    },
  };
}
