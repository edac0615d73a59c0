// Store-call instrumentation: the one Proxy through which fault injection (src/stores/faults.ts),
// metrics (src/metrics/stores.ts) and tracing (the listener of src/tracing/saga-tracer.ts) see every
// method call on a store, without touching the adapters. Only function-valued properties are
// intercepted; everything else (the store's `name`, fields) passes through.

/** One finished call on a store, as observers see it. */
export interface ObservedCall {
  store: string;
  operation: string;
  args: readonly unknown[];
  /** performance.now() at the start and end of the call. */
  startMs: number;
  endMs: number;
  /** What the call threw or rejected with; absent on success. */
  error?: unknown;
}

/** Called for every store call that carried a write context (tracing uses it for store spans). */
export type StoreCallListener = (call: {
  store: string;
  operation: string;
  sagaId: string;
  fencingToken: number;
  startMs: number;
  endMs: number;
  error?: unknown;
}) => void;

/**
 * A proxy of `target` whose methods run through `around(operation, args, call)`; `call()` runs the
 * original method. Wrapped methods are cached, so `store.fn === store.fn` still holds.
 */
export function interceptCalls<T extends object>(
  target: T,
  around: (operation: string, args: unknown[], call: () => unknown) => unknown,
): T {
  const wrapped = new Map<string, unknown>();
  return new Proxy(target, {
    get(t, prop, receiver) {
      const value: unknown = Reflect.get(t, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const cached = wrapped.get(prop);
      if (cached) return cached;
      const original = value as (...args: unknown[]) => unknown;
      const fn = (...args: unknown[]): unknown => around(prop, args, () => original.apply(t, args));
      wrapped.set(prop, fn);
      return fn;
    },
  });
}

/** A proxy of `store` that reports every call (sync or async, success or failure) to `onCall`. */
export function observeCalls<T extends { readonly name: string }>(store: T, onCall: (call: ObservedCall) => void): T {
  const storeName = store.name;
  return interceptCalls(store, (operation, args, call) => {
    const startMs = performance.now();
    const done = (error?: unknown): void => {
      onCall({ store: storeName, operation, args, startMs, endMs: performance.now(), ...(error === undefined ? {} : { error }) });
    };
    let result: unknown;
    try {
      result = call();
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
  });
}

/** The WriteContext argument of a write, if any (sagaId + fencingToken). */
export function writeContextIn(args: readonly unknown[]): { sagaId: string; fencingToken: number } | undefined {
  for (const a of args) {
    if (typeof a !== 'object' || a === null) continue;
    const c = a as { sagaId?: unknown; fencingToken?: unknown };
    if (typeof c.sagaId === 'string' && typeof c.fencingToken === 'number') return { sagaId: c.sagaId, fencingToken: c.fencingToken };
  }
  return undefined;
}

function isThenable(v: unknown): v is Promise<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}
