// Wraps the four stores so every write that carries a WriteContext (sagaId + fencing token) is
// recorded as an interval: a start line before the call and an end line after it. The crash
// line ends with the outcome ('ok' or the error code). The crash tests use it to prove that two owners (tokens) of one saga never write at the same time.
import type { StoreName, StoreSet, WriteContext } from '../../src/stores/types.js';

export interface RecordOptions {
  write(line: string): void;
  /** A write refused with STORE_FENCED. */
  onFenced?(sagaId: string): void;
  /** Optional pause before each call of a store (inside the recorded interval). */
  delayMs?(store: StoreName): number;
}

let nextId = 0;

function writeContext(args: unknown[]): WriteContext | undefined {
  for (const a of args) {
    if (typeof a === 'object' && a !== null && 'sagaId' in a && 'fencingToken' in a) return a as WriteContext;
  }
  return undefined;
}

function recordStore<T extends object>(store: T, name: StoreName, opts: RecordOptions): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const original = value as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]): Promise<unknown> => {
        const ctx = writeContext(args);
        if (!ctx) return original.apply(target, args);
        const id = `${process.pid}.${nextId++}`;
        opts.write(`S ${id} ${ctx.sagaId} ${name} ${prop} ${ctx.fencingToken} ${Date.now()}`);
        let outcome = 'ok';
        try {
          const delay = opts.delayMs?.(name) ?? 0;
          if (delay > 0) await new Promise((r) => setTimeout(r, delay));
          return await original.apply(target, args);
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          outcome = typeof code === 'string' ? code : 'error';
          if (code === 'STORE_FENCED') opts.onFenced?.(ctx.sagaId);
          throw err;
        } finally {
          opts.write(`E ${id} ${Date.now()} ${outcome}`);
        }
      };
    },
  });
}

export function recordCalls(stores: StoreSet, opts: RecordOptions): StoreSet {
  return {
    postgres: recordStore(stores.postgres, 'postgres', opts),
    neo4j: recordStore(stores.neo4j, 'neo4j', opts),
    qdrant: recordStore(stores.qdrant, 'qdrant', opts),
    redis: recordStore(stores.redis, 'redis', opts),
  };
}
