// Puts a Coalescer in front of the hot per-document calls of any StoreSet whose adapters offer the
// batched forms (src/stores/batch-types.ts): PostgreSQL putPending/commit/finishVersion, the graph
// and vector writeVersion/removeVersion, the cache put/remove. Callers see the same interfaces.
//
// Where it sits (docs/stores.md "Store group commit"): directly on the adapters, under every other
// wrapper. The fault wrapper (src/stores/faults.ts) and the store-call metrics (src/metrics/
// stores.ts) wrap the coalesced set, so they still see, fail and time every member's call (a
// member's latency includes its wait for a batch). Batch-level faults: wrap the adapter itself in
// withFaults naming a batched method (e.g. `writeVersionBatch`) before coalescing; the whole batch
// then fails, before or after it applied, as a real one would.
import { StoreError } from '../errors.js';
import type {
  CacheBatchWrites,
  CommitItem,
  DerivedBatchWrites,
  FinishItem,
  RelationalBatchReads,
  RelationalBatchWrites,
  RemoveVersionItem,
  WriteItem,
  CacheRemoveItem,
} from '../batch-types.js';
import type { CacheEntry, DocumentRow, DocumentVersion, StoreName, StoreSet, WriteContext } from '../types.js';
import { Coalescer, type CoalescerOptions } from './coalescer.js';

export interface CoalesceOptions {
  /** Stores left uncoalesced (their calls pass through one by one). */
  skip?: readonly StoreName[];
  maxItems?: number;
  maxBytes?: number;
  maxInFlight?: number;
}

/** Batch sizes seen per store operation (bench: p50 / max). */
export class BatchStats {
  private readonly sizes = new Map<string, number[]>();
  record(op: string, size: number): void {
    const list = this.sizes.get(op) ?? [];
    list.push(size);
    this.sizes.set(op, list);
  }
  summary(): Record<string, { batches: number; members: number; p50: number; max: number }> {
    const out: Record<string, { batches: number; members: number; p50: number; max: number }> = {};
    for (const [op, list] of this.sizes) {
      const sorted = [...list].sort((a, b) => a - b);
      out[op] = {
        batches: list.length,
        members: list.reduce((a, b) => a + b, 0),
        p50: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
        max: sorted[sorted.length - 1] ?? 0,
      };
    }
    return out;
  }
}

function hasMethods<K extends string>(o: object, ...names: K[]): o is Record<K, (...args: never[]) => unknown> {
  return names.every((n) => typeof (o as Record<string, unknown>)[n] === 'function');
}

/** A proxy that answers `overrides` first and passes everything else to `store`. */
function overlay<T extends object>(store: T, overrides: Record<string, unknown>): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop];
      return Reflect.get(target, prop, receiver);
    },
  });
}

function versionBytes(v: DocumentVersion): number {
  let n = 256;
  for (const c of v.chunks) n += c.text.length + c.embedding.length * 8 + 64;
  return n;
}

export function coalesceStores(stores: StoreSet, options: CoalesceOptions = {}, stats: BatchStats = new BatchStats()): StoreSet {
  const { skip = [], ...opts } = options;
  const make = <I, R>(
    store: StoreName,
    op: string,
    send: (items: readonly I[]) => ReturnType<CoalescerOptions<I, R>['send']>,
    keyOf: (i: I) => string,
    sizeOf?: (i: I) => number,
    sendOne?: (i: I) => Promise<R>,
  ): Coalescer<I, R> =>
    new Coalescer<I, R>({
      send,
      keyOf,
      ...(sizeOf ? { sizeOf } : {}),
      ...(sendOne ? { sendOne } : {}),
      abortedError: () => new StoreError(store, 'STORE_TRANSIENT', `${op}: aborted before start`),
      onBatch: ({ size }) => stats.record(`${store}.${op}`, size),
      ...opts,
    });

  const { postgres, neo4j, qdrant, redis } = stores;
  const on = (name: StoreName): boolean => !skip.includes(name);

  let pg = postgres;
  if (on('postgres') && hasMethods(postgres, 'documentStates')) {
    // The pre-reads before a saga begins (holderOf, then getDocument: the same-content no-op, the
    // DOC_HELD answer, the takeover of a dead holder) of concurrent writes: one statement.
    const b = postgres as unknown as RelationalBatchReads;
    type State = { row: DocumentRow | undefined; holder: string | undefined };
    type Read = { docId: string; want: 'row' | 'holder' };
    const none: State = { row: undefined, holder: undefined };
    const states = make<Read, State>(
      'postgres',
      'documentStates',
      async (reads) => {
        const found = await b.documentStates(reads.map((r) => r.docId));
        return reads.map((r) => ({ ok: true as const, value: found.get(r.docId) ?? none }));
      },
      (r) => r.docId,
      undefined,
      // Alone, a read goes as its own per-document statement (the combined one costs more alone).
      async (r) =>
        r.want === 'row' ? { ...none, row: await postgres.getDocument(r.docId) } : { ...none, holder: await postgres.holderOf(r.docId) },
    );
    pg = overlay(pg, {
      getDocument: async (docId: string) => (await states.submit({ docId, want: 'row' })).row,
      holderOf: async (docId: string) => (await states.submit({ docId, want: 'holder' })).holder,
    });
  }
  if (on('postgres') && hasMethods(postgres, 'putPendingBatch', 'commitBatch', 'finishVersionBatch')) {
    const b = postgres as unknown as RelationalBatchWrites;
    const put = make<WriteItem, { previousSha: string | null }>(
      'postgres',
      'putPending',
      (items) => b.putPendingBatch(items),
      (i) => i.v.docId,
      (i) => versionBytes(i.v),
      (i) => postgres.putPending(i.v, i.ctx),
    );
    const commit = make<CommitItem, void>(
      'postgres',
      'commit',
      (items) => b.commitBatch(items),
      (i) => i.docId,
      undefined,
      (i) =>
        i.expectedPrevious === undefined
          ? postgres.commit(i.docId, i.contentSha256, i.ctx)
          : postgres.commit(i.docId, i.contentSha256, i.ctx, i.expectedPrevious),
    );
    const finish = make<FinishItem, void>(
      'postgres',
      'finishVersion',
      (items) => b.finishVersionBatch(items),
      (i) => i.docId,
      undefined,
      (i) => postgres.finishVersion(i.docId, i.previousSha, i.ctx),
    );
    pg = overlay(pg, {
      putPending: (v: DocumentVersion, ctx: WriteContext) => put.submit({ v, ctx: bare(ctx) }, ctx.signal),
      commit: (docId: string, contentSha256: string, ctx: WriteContext, expectedPrevious?: string | null) =>
        commit.submit(
          { docId, contentSha256, ctx: bare(ctx), ...(expectedPrevious !== undefined ? { expectedPrevious } : {}) },
          ctx.signal,
        ),
      finishVersion: (docId: string, previousSha: string | null, ctx: WriteContext) =>
        finish.submit({ docId, previousSha, ctx: bare(ctx) }, ctx.signal),
    });
  }

  const derived = <T extends StoreSet['neo4j'] | StoreSet['qdrant']>(store: T): T => {
    if (!on(store.name) || !hasMethods(store, 'writeVersionBatch', 'removeVersionBatch')) return store;
    const b = store as unknown as DerivedBatchWrites;
    const write = make<WriteItem, void>(
      store.name,
      'writeVersion',
      (items) => b.writeVersionBatch(items),
      (i) => i.v.docId,
      (i) => versionBytes(i.v),
      (i) => store.writeVersion(i.v, i.ctx),
    );
    const remove = make<RemoveVersionItem, void>(
      store.name,
      'removeVersion',
      (items) => b.removeVersionBatch(items),
      (i) => i.docId,
      undefined,
      (i) => store.removeVersion(i.docId, i.contentSha256, i.ctx),
    );
    return overlay(store, {
      writeVersion: (v: DocumentVersion, ctx: WriteContext) => write.submit({ v, ctx: bare(ctx) }, ctx.signal),
      removeVersion: (docId: string, contentSha256: string, ctx?: WriteContext) =>
        remove.submit({ docId, contentSha256, ...(ctx ? { ctx: bare(ctx) } : {}) }, ctx?.signal),
    });
  };

  let cache = redis;
  if (on('redis') && hasMethods(redis, 'putBatch', 'removeBatch')) {
    const b = redis as unknown as CacheBatchWrites;
    const put = make<{ entry: CacheEntry; ctx: WriteContext }, void>(
      'redis',
      'put',
      (items) => b.putBatch(items),
      (i) => i.entry.docId,
      undefined,
      (i) => redis.put(i.entry, i.ctx),
    );
    const remove = make<CacheRemoveItem, void>(
      'redis',
      'remove',
      (items) => b.removeBatch(items),
      (i) => i.docId,
      undefined,
      (i) => redis.remove(i.docId, i.contentSha256, i.ctx),
    );
    cache = overlay(redis, {
      put: (entry: CacheEntry, ctx: WriteContext) => put.submit({ entry, ctx: bare(ctx) }, ctx.signal),
      remove: (docId: string, contentSha256: string | null, ctx?: WriteContext) =>
        remove.submit({ docId, contentSha256, ...(ctx ? { ctx: bare(ctx) } : {}) }, ctx?.signal),
    });
  }

  return { postgres: pg, neo4j: derived(neo4j), qdrant: derived(qdrant), redis: cache };
}

/** The context without its signal: the coalescer handles aborts; a batched call has none. */
function bare(ctx: WriteContext): WriteContext {
  return { sagaId: ctx.sagaId, fencingToken: ctx.fencingToken };
}
