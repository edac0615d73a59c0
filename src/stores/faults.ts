// Fault injection for tests and benches: wraps any store and makes chosen methods fail with
// STORE_INJECTED, before the real call (nothing applied) or after it (applied, but the caller
// sees a failure: the "maybe applied" case sagas must survive). Seeded, so a run replays exactly.
import { StoreError } from './errors.js';
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

/**
 * mulberry32: the same seed gives the same fault sequence. The engine has the same generator
 * (packages/saga/src/clock.ts seededRandom); stores do not import the engine, so this is its own copy, and
 * test/unit/faults.test.ts checks that both give the same numbers for the same seed.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
 * Returns a proxy with the same interface as `store` plus a control handle. Only function-valued
 * properties are intercepted; everything else passes through.
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
    new StoreError(storeName, 'STORE_INJECTED', `injected ${fault.retryable ? 'transient' : 'permanent'} fault ${fault.when} ${fault.method} (call ${fault.call})`, {
      retryable: fault.retryable,
    });

  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const method = prop;
      const original = value as (...args: unknown[]) => unknown;
      return async (...args: unknown[]): Promise<unknown> => {
        const call = (calls.get(method) ?? 0) + 1;
        calls.set(method, call);
        const decided = decide(method);
        const fault = decided ? { ...decided, call } : undefined;
        if (fault?.when === 'before') {
          log.push(fault);
          throw fail(fault);
        }
        const result = await original.apply(target, args);
        if (fault?.when === 'after') {
          log.push(fault);
          throw fail(fault);
        }
        return result;
      };
    },
  });

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
