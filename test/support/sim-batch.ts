// The batched forms (src/stores/batch-types.ts) of the simulation's model stores (sim-stores.ts),
// so that the real coalescer (src/stores/coalesce/) can sit between the simulated sagas and the
// models and its batched path is what runs. A batched call applies every member atomically and at
// once (all in one synchronous run, like one transaction) with the member's own per-document call,
// so each member keeps its own fence check, busy check and outcome: a stale or busy member fails
// alone. Nothing here awaits before the last member applied, so the effect log (sim-effects.ts)
// sees the whole batch change the store in one call, and (as the coalescer never puts one document
// twice in a batch) can attribute each document's change to its member.
import type { MemberOutcome } from '../../src/stores/batch-types.js';
import type {
  CacheBatchWrites,
  CacheRemoveItem,
  CommitItem,
  DerivedBatchWrites,
  FinishItem,
  RelationalBatchReads,
  RelationalBatchWrites,
  RemoveVersionItem,
  WriteItem,
} from '../../src/stores/batch-types.js';
import type { CacheEntry, StoreSet, WriteContext } from '../../src/stores/types.js';

/** Starts every member's call now (each applies synchronously), then collects one outcome each. */
async function each<I, R>(items: readonly I[], call: (item: I) => Promise<R>): Promise<Array<MemberOutcome<R>>> {
  const started = items.map((item) => {
    try {
      return call(item);
    } catch (err) {
      return Promise.reject(err);
    }
  });
  const settled = await Promise.allSettled(started);
  return settled.map((s) => (s.status === 'fulfilled' ? { ok: true as const, value: s.value } : { ok: false as const, error: s.reason }));
}

/** The batched call's name -> the per-document call each member makes (the effect log's names). */
export const MEMBER_CALL: Readonly<Record<string, string>> = {
  putPendingBatch: 'putPending',
  commitBatch: 'commit',
  finishVersionBatch: 'finishVersion',
  writeVersionBatch: 'writeVersion',
  removeVersionBatch: 'removeVersion',
  putBatch: 'put',
  removeBatch: 'remove',
};

/** One member of a batched call as the effect log records it: its document, context and version. */
export function memberOf(item: unknown): { docId: string; ctx: WriteContext | undefined; sha: string | undefined } | undefined {
  const i = item as Partial<WriteItem & CommitItem & FinishItem & RemoveVersionItem & { entry: CacheEntry }>;
  const docId = i.v?.docId ?? i.entry?.docId ?? i.docId;
  if (typeof docId !== 'string') return undefined;
  const sha = typeof i.contentSha256 === 'string' && !i.v && !i.entry ? i.contentSha256 : undefined;
  return { docId, ctx: i.ctx, sha };
}

/** Adds the batched forms to the model stores of `simStores` (mutates and returns them). */
export function withBatchForms(stores: StoreSet): StoreSet {
  const { postgres: pg, neo4j, qdrant, redis } = stores;
  const relational: RelationalBatchWrites & RelationalBatchReads = {
    putPendingBatch: (items) => each(items, (i) => pg.putPending(i.v, i.ctx)),
    commitBatch: (items) =>
      each(items, (i) =>
        i.expectedPrevious === undefined
          ? pg.commit(i.docId, i.contentSha256, i.ctx)
          : pg.commit(i.docId, i.contentSha256, i.ctx, i.expectedPrevious),
      ),
    finishVersionBatch: (items) => each(items, (i) => pg.finishVersion(i.docId, i.previousSha, i.ctx)),
    documentStates: async (ids) => {
      const out = new Map<string, { row: Awaited<ReturnType<typeof pg.getDocument>>; holder: string | undefined }>();
      for (const id of ids) out.set(id, { row: await pg.getDocument(id), holder: await pg.holderOf(id) });
      return out;
    },
  };
  const derived = (s: StoreSet['neo4j'] | StoreSet['qdrant']): DerivedBatchWrites => ({
    writeVersionBatch: (items) => each(items, (i) => s.writeVersion(i.v, i.ctx)),
    removeVersionBatch: (items) => each(items, (i) => s.removeVersion(i.docId, i.contentSha256, i.ctx)),
  });
  const cache: CacheBatchWrites = {
    putBatch: (items) => each(items, (i) => redis.put(i.entry, i.ctx)),
    removeBatch: (items) => each(items, (i: CacheRemoveItem) => redis.remove(i.docId, i.contentSha256, i.ctx)),
  };
  Object.assign(pg, relational);
  Object.assign(neo4j, derived(neo4j));
  Object.assign(qdrant, derived(qdrant));
  Object.assign(redis, cache);
  return stores;
}
