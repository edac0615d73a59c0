// The ingest saga (also the update saga: an update is an ingest whose previousSha is set).
//
// Default plan (DESIGN "The ingest saga"):
//   postgres_pending -> [neo4j_write || qdrant_write] -> postgres_commit (pivot)
//   -> redis_write (retriable) -> cleanup_previous (retriable)
// The seed's plan (`adr`), kept so both can be measured: strictly sequential,
//   neo4j_write -> postgres_pending -> qdrant_write -> redis_write -> postgres_commit (pivot)
//   -> cleanup_previous (retriable)
//
// Why updates never lose the committed version: the new version is written beside the old one
// (stores key chunks by content hash), compensations remove only the new version, and the old
// one is removed only after the pivot made the new one current.
import { defineSaga, type SagaDefinition, type StepDefinition } from '../../saga/index.js';
import type { StoreSet } from '../../stores/types.js';
import type { Embedder } from '../embedder.js';
import type { IngestLimits } from '../limits.js';
import { versionOf, type IngestInput } from './version.js';

export type IngestPlan = 'default' | 'adr';
export const INGEST_PLANS: readonly IngestPlan[] = ['default', 'adr'];

export interface IngestDeps {
  stores: StoreSet;
  embedder: Embedder;
  limits?: Partial<IngestLimits>;
  /** Per-attempt timeout of each store write (ms). */
  stepTimeoutMs?: number;
}

type Step = StepDefinition<IngestInput, unknown, unknown> & { name: string };
type Ctx = Parameters<Step['run']>[0];

const wctx = (ctx: Ctx) => ({ sagaId: ctx.sagaId, fencingToken: ctx.fencingToken, signal: ctx.signal });

/** The step bodies, shared by both plans. */
export function ingestSteps(deps: IngestDeps) {
  const { stores, embedder, limits } = deps;
  const timeoutMs = deps.stepTimeoutMs ?? 30_000;
  const retry = { maxAttempts: 4, initialDelayMs: 25, maxDelayMs: 1_000 };
  const postgresPending: Step = {
    name: 'postgres_pending',
    timeoutMs,
    retry,
    run: async (ctx) => {
      const v = await versionOf(ctx.input.doc, ctx.input.sha, { limits });
      await stores.postgres.putPending(v, wctx(ctx));
      return { chunks: v.chunks.length };
    },
    compensate: async (ctx) => stores.postgres.discardPending(ctx.input.doc.id, ctx.input.sha, wctx(ctx)),
  };
  const neo4jWrite: Step = {
    name: 'neo4j_write',
    timeoutMs,
    retry,
    run: async (ctx) => {
      const v = await versionOf(ctx.input.doc, ctx.input.sha, { limits });
      await stores.neo4j.writeVersion(v, wctx(ctx));
      return { chunks: v.chunks.length };
    },
    compensate: async (ctx) => stores.neo4j.removeVersion(ctx.input.doc.id, ctx.input.sha, wctx(ctx)),
  };
  const qdrantWrite: Step = {
    name: 'qdrant_write',
    timeoutMs,
    retry,
    run: async (ctx) => {
      const v = await versionOf(ctx.input.doc, ctx.input.sha, { limits, embedder, signal: ctx.signal });
      await stores.qdrant.upsertVersion(v, wctx(ctx));
      return { points: v.chunks.length };
    },
    compensate: async (ctx) => stores.qdrant.removeVersion(ctx.input.doc.id, ctx.input.sha, wctx(ctx)),
  };
  const postgresCommit: Step = {
    name: 'postgres_commit',
    kind: 'pivot',
    timeoutMs,
    retry,
    run: async (ctx) => {
      await stores.postgres.commit(ctx.input.doc.id, ctx.input.sha, wctx(ctx), ctx.input.previousSha);
      return null;
    },
  };
  const cacheEntry = async (ctx: Ctx) => {
    const { doc, sha } = ctx.input;
    const v = await versionOf(doc, sha, { limits });
    return { docId: doc.id, title: doc.title, contentSha256: sha, chunkCount: v.chunks.length, metadata: doc.metadata };
  };
  const redisWrite = (kind: 'retriable' | 'compensatable'): Step => ({
    name: 'redis_write',
    kind,
    timeoutMs,
    ...(kind === 'retriable' ? {} : { retry }),
    run: async (ctx) => {
      await stores.redis.put(await cacheEntry(ctx), wctx(ctx));
      return null;
    },
    // Before the pivot (plan adr) the write replaced the committed version's entry: undo it by
    // removing ours and, for an update, putting the committed version's entry back.
    ...(kind === 'compensatable' ? { compensate: async (ctx: Ctx) => restoreCache(ctx) } : {}),
  });
  const restoreCache = async (ctx: Ctx): Promise<void> => {
    const { doc, sha, previousSha } = ctx.input;
    await stores.redis.remove(doc.id, sha, wctx(ctx));
    if (previousSha === null) return;
    const row = await stores.postgres.getDocument(doc.id);
    if (row?.contentSha256 !== previousSha) return; // nothing committed to restore
    const chunks = await stores.postgres.getChunks(doc.id, previousSha);
    const entry = { docId: doc.id, title: row.title, contentSha256: previousSha, chunkCount: chunks.length, metadata: row.metadata };
    await stores.redis.put(entry, wctx(ctx));
  };
  const cleanupPrevious: Step = {
    name: 'cleanup_previous',
    kind: 'retriable',
    timeoutMs,
    run: async (ctx) => {
      const { doc, previousSha, sha } = ctx.input;
      if (previousSha === null || previousSha === sha) return { removed: null };
      const w = wctx(ctx);
      await Promise.all([
        stores.neo4j.removeVersion(doc.id, previousSha, w),
        stores.qdrant.removeVersion(doc.id, previousSha, w),
      ]);
      await stores.postgres.removeVersion(doc.id, previousSha);
      return { removed: previousSha };
    },
  };
  return { postgresPending, neo4jWrite, qdrantWrite, postgresCommit, redisWrite, cleanupPrevious };
}

export function ingestSaga(deps: IngestDeps, plan: IngestPlan = 'default'): SagaDefinition<IngestInput, Record<string, unknown>> {
  const s = ingestSteps(deps);
  if (plan === 'adr') {
    return defineSaga<IngestInput>('ingest_adr', 1)
      .step(s.neo4jWrite)
      .step(s.postgresPending)
      .step(s.qdrantWrite)
      .step(s.redisWrite('compensatable'))
      .step(s.postgresCommit)
      .step(s.cleanupPrevious)
      .build() as SagaDefinition<IngestInput, Record<string, unknown>>;
  }
  return defineSaga<IngestInput>('ingest', 1)
    .step(s.postgresPending)
    .parallel((g) => g.step(s.neo4jWrite).step(s.qdrantWrite))
    .step(s.postgresCommit)
    .step(s.redisWrite('retriable'))
    .step(s.cleanupPrevious)
    .build() as SagaDefinition<IngestInput, Record<string, unknown>>;
}
