// Store request latency and outcome, for any StoreSet, without touching the adapters: each store is
// observed through the one store-call proxy (src/lib/store-calls.ts), which times every method
// call. The operation label is the method name, so its values are bounded by the store interfaces
// (src/stores/types.ts).
import type { StoreSet } from '../stores/types.js';
import type { ApexMetrics } from './registry.js';
import { errorCode } from '../lib/errors.js';
import { observeCalls, writeContextIn, type StoreCallListener } from '../lib/store-calls.js';

export function instrumentStores(stores: StoreSet, m: ApexMetrics, listener?: StoreCallListener): StoreSet {
  return {
    postgres: instrument(stores.postgres, m, listener),
    neo4j: instrument(stores.neo4j, m, listener),
    qdrant: instrument(stores.qdrant, m, listener),
    redis: instrument(stores.redis, m, listener),
  };
}

function instrument<T extends { readonly name: string }>(store: T, m: ApexMetrics, listener: StoreCallListener | undefined): T {
  return observeCalls(store, ({ store: storeName, operation, args, startMs, endMs, error }) => {
    const outcome = error === undefined ? 'ok' : errorCode(error) === 'STORE_FENCED' ? 'fenced' : 'error';
    m.storeDuration.observe({ store: storeName, operation, outcome }, (endMs - startMs) / 1000);
    if (outcome === 'fenced') m.fencedWrites.inc({ store: storeName });
    const ctx = writeContextIn(args);
    if (listener && ctx)
      listener({
        store: storeName,
        operation,
        sagaId: ctx.sagaId,
        fencingToken: ctx.fencingToken,
        startMs,
        endMs,
        ...(error === undefined ? {} : { error }),
      });
  });
}
