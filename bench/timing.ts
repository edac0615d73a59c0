// Wall time per store call, for the benches' "where the time goes" tables: wraps every method of
// each store in a StoreSet and sums the time spent in it (concurrent calls overlap, so the sums
// can exceed the wall time; they say where sagas wait, not CPU).
import type { StoreSet } from '../src/stores/types.js';

export interface CallStats {
  calls: number;
  totalMs: number;
  samples: number[];
}

export class StoreTimer {
  readonly stats = new Map<string, CallStats>();

  wrap(stores: StoreSet): StoreSet {
    const out: Record<string, unknown> = {};
    for (const [name, store] of Object.entries(stores)) out[name] = this.wrapOne(name, store as object);
    return out as unknown as StoreSet;
  }

  private wrapOne<T extends object>(storeName: string, store: T): T {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string' || ['connect', 'close', 'health'].includes(prop)) return value;
        const fn = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const t0 = performance.now();
          const r = fn.apply(target, args);
          if (!(r instanceof Promise)) return r;
          const done = (): void => this.add(`${storeName}.${prop}`, performance.now() - t0);
          return r.then(
            (v) => (done(), v),
            (e: unknown) => {
              done();
              throw e;
            },
          );
        };
      },
    });
  }

  add(key: string, ms: number): void {
    const s = this.stats.get(key) ?? { calls: 0, totalMs: 0, samples: [] };
    s.calls++;
    s.totalMs += ms;
    s.samples.push(ms);
    this.stats.set(key, s);
  }

  /** Rows sorted by total time: {call, calls, total_ms, mean_ms, p50_ms}. */
  rows(): CallRow[] {
    return [...this.stats]
      .map(([call, s]) => {
        const sorted = [...s.samples].sort((a, b) => a - b);
        const p50 = sorted[Math.floor(sorted.length / 2)] ?? 0;
        return {
          call,
          calls: s.calls,
          total_ms: +s.totalMs.toFixed(1),
          mean_ms: +(s.totalMs / s.calls).toFixed(3),
          p50_ms: +p50.toFixed(3),
        };
      })
      .sort((a, b) => b.total_ms - a.total_ms);
  }

  reset(): void {
    this.stats.clear();
  }
}

export interface CallRow {
  call: string;
  calls: number;
  total_ms: number;
  mean_ms: number;
  p50_ms: number;
}

/** Nearest-rank percentile of an ascending array (0 when empty). */
export function pct(sorted: readonly number[], p: number): number {
  return +(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0).toFixed(3);
}
