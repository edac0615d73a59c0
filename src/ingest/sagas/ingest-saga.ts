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
//
// Why no other saga's data is ever removed: the first step takes the document (single-writer
// rule, document-guard.ts) and the last action gives it back. The version to clean up after the
// pivot is the one committed when this saga took the document (postgres_pending's output), not
// the one seen when the saga was planned.
//
// Content by reference (content.ts, docs/erasure.md): the logged input holds the document's id and
// hash; the steps that need the content read the saga's staged copy, and the saga's last action
// (cleanup_previous, or the first step's compensation) removes it.
import { defineSaga, type SagaDefinition, type StepContext } from '../../saga/index.js';
import type { StoreSet, WriteContext } from '../../stores/types.js';
import type { Embedder } from '../embedder.js';
import type { IngestLimits } from '../limits.js';
import { holdOrSkip, removeOwnVersion, unlessBusy } from './document-guard.js';
import { afterPivotRetry, firstStepRetry, storeRetry, type OutageBudgets } from './outage-budget.js';
import { storeStepFactory, writeContext as writeContextOf, type StoreStep } from './store-step.js';
import { versionOf, type IngestInput } from './version.js';
import { docIdOf, documentOf, dropContent } from './content.js';
import { cacheOption } from './cache-choice.js';
import { settleAll } from '../../lib/settle-all.js';
import type { StagedContentCache } from './content-cache.js';
import { forEachTarget, ownBinding, writeEverywhere } from '../reindex/dual-write.js';
import type { VectorTargets } from '../reindex/targets.js';
import { chunkingPlan } from '../reindex/chunkings.js';

export type IngestPlan = 'default' | 'adr';
export const INGEST_PLANS: readonly IngestPlan[] = ['default', 'adr'];

export interface IngestDeps {
  stores: StoreSet;
  embedder: Embedder;
  limits?: Partial<IngestLimits>;
  /** Per-attempt timeout of each store write (ms). */
  stepTimeoutMs?: number;
  /** How long store errors are retried before giving up (outage-budget.ts; default 60 s each step). */
  outage?: OutageBudgets;
  /** qdrant_write takes vectors from the embedding cache in PostgreSQL (chunk-embeddings.ts) and
   * stores the new ones. The forgetting runs either way (a version's cached vectors go with it). */
  cacheEmbeddings?: boolean;
  /** Per embedder (cache-choice.ts): the other targets' embedders during a reindex. */
  cacheFor?: (embedder: Embedder) => boolean;
  /** The vector targets of the active index record (docs/reindex.md): the vector steps write every
   * one it names now. Absent (unit tests): the process's own collection only. */
  targets?: VectorTargets;
  /** A step refused STORE_BUSY names the holder here (holder.ts BusyHolders: a dead owner's saga
   * is taken over and finished while this one waits, not after its whole wait budget). */
  onBusy?: (holder: string) => void;
  /** This process's copy of the staged contents (content-cache.ts): saves a read per step. */
  content?: StagedContentCache;
}

type Ctx = StepContext<IngestInput, unknown>;
/** postgres_pending's output; `previousSha` is absent in logs written before it was recorded. */
interface Pending {
  chunks: number;
  previousSha?: string | null;
}

/**
 * The step bodies, shared by both plans (`saga`: the definition's name, for per-saga budgets).
 * Store errors that say `retryable` are retried for the step's outage budget (outage-budget.ts):
 * a store down for less than that delays the document instead of rolling it back.
 */
export function ingestSteps(deps: IngestDeps, saga = 'ingest') {
  const { stores, embedder, limits } = deps;
  const storeStep = storeStepFactory<IngestInput>({
    timeoutMs: deps.stepTimeoutMs ?? 30_000,
    retry: (step) => storeRetry(deps.outage, saga, step),
    ...(deps.onBusy ? { onBusy: deps.onBusy } : {}),
  });
  const postgresPending = storeStep('postgres_pending', {
    run: async (ctx, w): Promise<Pending> => {
      const doc = await documentOf(stores, ctx.sagaId, ctx.input, deps.content);
      const plan = await chunkingPlan(deps.targets, limits);
      const v = await versionOf(doc, ctx.input.sha, { limits: plan.limits(plan.active), chunking: plan.active });
      const { previousSha } = await stores.postgres.putPending(v, w);
      // A re-chunking reindex (docs/reindex.md): the version's chunks in every other live chunking
      // too, in this step (compensated with it: discardPending removes every chunking).
      for (const k of plan.all.filter((c) => c !== plan.active)) {
        await stores.postgres.putPending(await versionOf(doc, ctx.input.sha, { limits: plan.limits(k), chunking: k }), w);
      }
      return { chunks: v.chunks.length, previousSha };
    },
    // In the default plan this is the first step: its compensation is the saga's last action on
    // the document and gives it back; the saga has ended, so its staged content goes too.
    compensate: async (ctx, w) => {
      await unlessBusy(stores.postgres.discardPending(docIdOf(ctx.input), ctx.input.sha, w, { release: true }));
      await dropContent(stores, ctx.sagaId, deps.content);
    },
  });
  /** The version committed when this saga took the document (older logs: the planned one). */
  const previousOf = (ctx: Ctx): string | null => {
    const p = ctx.result(postgresPending)?.previousSha;
    return typeof p === 'string' || p === null ? p : ctx.input.previousSha;
  };
  const neo4jWrite = storeStep('neo4j_write', {
    run: async (ctx, w) => {
      const doc = await documentOf(stores, ctx.sagaId, ctx.input, deps.content);
      const plan = await chunkingPlan(deps.targets, limits);
      let chunks = 0;
      // Every live chunking's chunk nodes (one, unless a re-chunking reindex runs); removeVersion
      // in the compensation removes them all.
      for (const k of plan.all) {
        const v = await versionOf(doc, ctx.input.sha, { limits: plan.limits(k), chunking: k });
        await stores.neo4j.writeVersion(v, w);
        if (k === plan.active) chunks = v.chunks.length;
      }
      return { chunks };
    },
    compensate: (ctx, w) => {
      const docId = docIdOf(ctx.input);
      return removeOwnVersion(stores, docId, ctx.input.sha, w, () => stores.neo4j.removeVersion(docId, ctx.input.sha, w));
    },
  });
  // The vector targets (dual-write.ts): every one the active index record names now, each with its
  // own embedder; two while a reindex runs (docs/reindex.md). In this step, not steps of their own:
  // a step costs two saga-log records in every saga, and a choice point in every simulated one.
  const own = ownBinding(stores.qdrant, embedder);
  const qdrantWrite = storeStep('qdrant_write', {
    run: async (ctx, w) => {
      const doc = await documentOf(stores, ctx.sagaId, ctx.input, deps.content);
      // Side by side: the dual writes doubled the vector part of every write until --finish when
      // they ran one after the other (bench/reindex.ts). A failure anywhere fails the step; its
      // retry rewrites them all (idempotent), its compensation removes from all.
      const { points, collections } = await writeEverywhere(deps.targets, own, doc, ctx.input.sha, w, {
        limits,
        signal: ctx.signal,
        cacheOf: (e) => cacheOption(deps, e, stores.postgres).embeddingCache,
      });
      return collections.length > 1 ? { points, collections } : { points };
    },
    // Our version's points go (from every target), and so do its cached vectors that no other
    // version uses (the lookup recorded this version's use before embedding, so they are ours).
    compensate: (ctx, w) => {
      const docId = docIdOf(ctx.input);
      return removeOwnVersion(stores, docId, ctx.input.sha, w, async () => {
        await forEachTarget(deps.targets, own, (b) => b.store.removeVersion(docId, ctx.input.sha, w));
        await stores.postgres.forgetEmbeddings(docId, ctx.input.sha, { heldBy: ctx.sagaId });
      });
    },
  });
  const postgresCommit = storeStep('postgres_commit', {
    kind: 'pivot',
    run: async (ctx, w) => {
      await stores.postgres.commit(docIdOf(ctx.input), ctx.input.sha, w, previousOf(ctx));
      return null;
    },
  });
  const cacheEntry = async (ctx: Ctx) => {
    const { sha } = ctx.input;
    const doc = await documentOf(stores, ctx.sagaId, ctx.input, deps.content);
    const plan = await chunkingPlan(deps.targets, limits);
    const v = await versionOf(doc, sha, { limits: plan.limits(plan.active) });
    return { docId: doc.id, title: doc.title, contentSha256: sha, chunkCount: v.chunks.length, metadata: doc.metadata };
  };
  const restoreCache = async (ctx: Ctx, w: WriteContext): Promise<void> => {
    const { sha } = ctx.input;
    const doc = { id: docIdOf(ctx.input) };
    const h = await holdOrSkip(stores, doc.id, w);
    if (!h.held) return;
    const row = h.row;
    if (row?.contentSha256 === sha) return; // our content is the committed one: its entry is right
    await stores.redis.remove(doc.id, sha, w);
    if (!row || row.contentSha256 === null || row.ingestionStatus !== 'committed') return; // nothing committed to restore
    const chunks = await stores.postgres.getChunks(doc.id, row.contentSha256, (await chunkingPlan(deps.targets)).active);
    await stores.redis.put(
      { docId: doc.id, title: row.title, contentSha256: row.contentSha256, chunkCount: chunks.length, metadata: row.metadata },
      w,
    );
  };
  const putCache = async (ctx: Ctx, w: WriteContext): Promise<null> => {
    await stores.redis.put(await cacheEntry(ctx), w);
    return null;
  };
  const redisWrite = (kind: 'retriable' | 'compensatable') =>
    kind === 'retriable'
      ? storeStep('redis_write', { kind, retry: afterPivotRetry(deps.outage, saga, 'redis_write'), run: putCache })
      : // Before the pivot (plan adr) the write replaced the committed version's entry: undo it by
        // removing ours and, for an update, putting the committed version's entry back.
        storeStep('redis_write', { kind, run: putCache, compensate: restoreCache });
  const cleanupPrevious = storeStep('cleanup_previous', {
    kind: 'retriable',
    retry: afterPivotRetry(deps.outage, saga, 'cleanup_previous'),
    // The saga's last action: removes the version it replaced and gives the document back; the
    // saga needs its staged content no more.
    run: async (ctx, w) => {
      const out = await finishDocument(ctx, w);
      await dropContent(stores, ctx.sagaId, deps.content);
      return out;
    },
  });
  async function finishDocument(ctx: Ctx, w: WriteContext): Promise<{ removed: string | null }> {
    const { sha } = ctx.input;
    const docId = docIdOf(ctx.input);
    const previousSha = previousOf(ctx);
    const stale = previousSha !== null && previousSha !== sha ? previousSha : null;
    let committedNow: string | null = sha;
    if (ctx.attempt > 1) {
      // An earlier attempt may have released the document already: then another saga may hold
      // it, or may have held it and committed since (even our previous version again).
      const h = await holdOrSkip(stores, docId, w);
      if (!h.held) return { removed: stale };
      committedNow = h.row?.contentSha256 ?? null;
    }
    if (stale !== null && stale !== committedNow) {
      await settleAll([
        stores.neo4j.removeVersion(docId, stale, w),
        forEachTarget(deps.targets, own, (b) => b.store.removeVersion(docId, stale, w)), // every vector target
      ]);
      // The replaced version's cached vectors that the new one (or another document) does not use.
      await stores.postgres.forgetEmbeddings(docId, stale, { heldBy: ctx.sagaId });
    }
    await stores.postgres.finishVersion(docId, stale, w);
    return { removed: stale };
  }
  return { postgresPending, neo4jWrite, qdrantWrite, postgresCommit, redisWrite, cleanupPrevious };
}

export function ingestSaga(deps: IngestDeps, plan: IngestPlan = 'default'): SagaDefinition<IngestInput, Record<string, unknown>> {
  const saga = plan === 'adr' ? 'ingest_adr' : 'ingest';
  const s = ingestSteps(deps, saga);
  // Waiting for the document: another saga holds it (it will finish, or be recovered and finish).
  s.postgresPending.retry = firstStepRetry(deps.outage, saga, 'postgres_pending');
  if (plan === 'adr') {
    return defineSaga<IngestInput>(saga, 1)
      .step(firstTakesDocument(deps, s.neo4jWrite))
      .step({
        ...s.postgresPending,
        compensate: (ctx) => unlessBusy(deps.stores.postgres.discardPending(docIdOf(ctx.input), ctx.input.sha, writeContextOf(ctx))),
      })
      .step(s.qdrantWrite)
      .step(s.redisWrite('compensatable'))
      .step(s.postgresCommit)
      .step(s.cleanupPrevious)
      .build();
  }
  return defineSaga<IngestInput>(saga, 1)
    .step(s.postgresPending)
    .parallel((g) => g.step(s.neo4jWrite).step(s.qdrantWrite))
    .step(s.postgresCommit)
    .step(s.redisWrite('retriable'))
    .step(s.cleanupPrevious)
    .build();
}

/**
 * The seed's plan starts with Neo4j: that step takes the document in PostgreSQL before writing,
 * and its compensation (the saga's last) gives it back.
 */
function firstTakesDocument<O extends object>(
  deps: IngestDeps,
  step: StoreStep<IngestInput, O>,
): StoreStep<IngestInput, O & { previousSha: string | null }> {
  const { stores } = deps;
  return {
    ...step,
    // The first step: it also waits while another saga holds the document (STORE_BUSY).
    retry: firstStepRetry(deps.outage, 'ingest_adr', step.name),
    run: async (ctx) => {
      const row = await stores.postgres.acquire(docIdOf(ctx.input), writeContextOf(ctx));
      const out = await step.run(ctx);
      return { ...out, previousSha: row?.contentSha256 ?? null };
    },
    compensate: async (ctx) => {
      await step.compensate?.(ctx);
      await unlessBusy(stores.postgres.release(docIdOf(ctx.input), writeContextOf(ctx)));
      await dropContent(stores, ctx.sagaId, deps.content); // the saga's last action: it needs its content no more
    },
  };
}
