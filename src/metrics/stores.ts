// Store request latency and outcome, for any StoreSet, without touching the adapters: each store is
// wrapped in a Proxy (like src/stores/faults.ts) that times every method call. The operation label
// is the method name, so its values are bounded by the store interfaces (src/stores/types.ts).
import type { StoreSet } from '../stores/types.js';
import type { ApexMetrics } from './registry.js';
import { errorCode } from '../lib/errors.js';

/** Called for every store call that carried a write context (tracing uses it for store spans). */
export type StoreCallListener = (call: { store: string; operation: string; sagaId: string; fencingToken: number; startMs: number; endMs: number; error?: unknown }) => void;

export function instrumentStores(stores: StoreSet, m: ApexMetrics, listener?: StoreCallListener): StoreSet {
  return {
    postgres: instrument(stores.postgres, m, listener),
    neo4j: instrument(stores.neo4j, m, listener),
    qdrant: instrument(stores.qdrant, m, listener),
    redis: instrument(stores.redis, m, listener),
  };
}

function instrument<T extends { readonly name: string }>(store: T, m: ApexMetrics, listener: StoreCallListener | undefined): T {
  const storeName = store.name;
  const wrapped = new Map<string, unknown>();
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const cached = wrapped.get(prop);
      if (cached) return cached;
      const original = value as (...args: unknown[]) => unknown;
      const fn = (...args: unknown[]): unknown => {
        const start = performance.now();
        const done = (error?: unknown): void => {
          const end = performance.now();
          const outcome = error === undefined ? 'ok' : isFenced(error) ? 'fenced' : 'error';
          m.storeDuration.observe({ store: storeName, operation: prop, outcome }, (end - start) / 1000);
          if (outcome === 'fenced') m.fencedWrites.inc({ store: storeName });
          const ctx = writeContextIn(args);
          if (listener && ctx) listener({ store: storeName, operation: prop, sagaId: ctx.sagaId, fencingToken: ctx.fencingToken, startMs: start, endMs: end, ...(error === undefined ? {} : { error }) });
        };
        let result: unknown;
        try {
          result = original.apply(target, args);
        } catch (err) {
          done(err ?? new Error('thrown'));
          throw err;
        }
        if (!isThenable(result)) {
          done();
          return result;
        }
        return result.then(
          (v) => {
            done();
            return v;
          },
          (err: unknown) => {
            done(err ?? new Error('rejected'));
            throw err;
          },
        );
      };
      wrapped.set(prop, fn);
      return fn;
    },
  });
}

function isThenable(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function isFenced(err: unknown): boolean {
  return errorCode(err) === 'STORE_FENCED';
}

/** The WriteContext argument of a write, if any (sagaId + fencingToken). */
function writeContextIn(args: unknown[]): { sagaId: string; fencingToken: number } | undefined {
  for (const a of args) {
    if (typeof a !== 'object' || a === null) continue;
    const c = a as { sagaId?: unknown; fencingToken?: unknown };
    if (typeof c.sagaId === 'string' && typeof c.fencingToken === 'number') return { sagaId: c.sagaId, fencingToken: c.fencingToken };
  }
  return undefined;
}
