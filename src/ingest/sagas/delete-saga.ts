// The delete saga. A failed delete must leave the document fully present, so the derived stores'
// deletions are compensated by writing the committed version back, rebuilt from PostgreSQL (which
// still holds it: PostgreSQL is deleted last, as the pivot).
//   postgres_mark_deleting -> [redis_delete || neo4j_delete || qdrant_delete] -> postgres_delete (pivot)
// The first step takes the document (single-writer rule, document-guard.ts) and records the
// committed version as it found it: that, not what was seen when the delete was planned, is what
// the compensations rebuild. The pivot gives the document back; so does the first compensation.
//
// Erasure (docs/erasure.md): the log holds ids and hashes only (the first step's output is the
// version it found, never its title or metadata: the compensations read those from PostgreSQL's
// row, which is removed last). After the pivot the same step erases the staged content of the
// document's ENDED sagas (`endedSagas`); an unfinished saga's staged input (an ingest queued after
// this delete) is never removed.
import { defineSaga, type SagaDefinition, type StepContext } from '../../saga/index.js';
import { StoreError } from '../../stores/errors.js';
import type { DocumentVersion, StagedRef, StoreSet } from '../../stores/types.js';
import type { Embedder } from '../embedder.js';
import { holdOrSkip, unlessBusy } from './document-guard.js';
import { firstStepRetry, storeRetry, type OutageBudgets } from './outage-budget.js';
import { storeStepFactory, writeContext } from './store-step.js';
import { versionFromChunks, type DeleteInput } from './version.js';
import { forEachTarget, ownBinding } from '../reindex/dual-write.js';
import { cacheOption } from './cache-choice.js';
import type { VectorTargets } from '../reindex/targets.js';
import { chunkingPlan, type ChunkingPlan } from '../reindex/chunkings.js';

export interface DeleteDeps {
  stores: StoreSet;
  embedder: Embedder;
  stepTimeoutMs?: number;
  /** How long store errors are retried before giving up (outage-budget.ts; default 60 s each step). */
  outage?: OutageBudgets;
  /** A compensation that rewrites the vectors takes them from the embedding cache (ingest-saga.ts). */
  cacheEmbeddings?: boolean;
  /** Per embedder (cache-choice.ts): the other targets' embedders during a reindex. */
  cacheFor?: (embedder: Embedder) => boolean;
  /** Which of these staged sagas have ended (completed or compensated; or unknown to the log past
   * a grace period: staged, then never begun): their staged content may go. Without it, the delete
   * erases no staged content (the sweep does, later). staged-sweep.ts endedOf is the one in use. */
  endedSagas?: (staged: readonly StagedRef[]) => Promise<Set<string>>;
  /** The vector targets of the active index record (docs/reindex.md): a delete removes from every
   * one it names now. Absent (unit tests): the process's own collection only. */
  targets?: VectorTargets;
  /** A step refused STORE_BUSY names the holder here (holder.ts BusyHolders: a dead owner's saga
   * is taken over and finished while this one waits, not after its whole wait budget). */
  onBusy?: (holder: string) => void;
}

type Ctx = StepContext<DeleteInput, unknown>;
/** What the first step found committed: its hash only (absent in logs written before it recorded it). */
type Found = Partial<Pick<DeleteInput, 'sha'>>;

/** Staged rows looked at per round when the delete erases its document's ended sagas' content. */
const STAGED_PAGE = 500;

export function deleteSaga(deps: DeleteDeps): SagaDefinition<DeleteInput, Record<string, unknown>> {
  const { stores, embedder } = deps;
  // A store that is down is waited for, within the step's outage budget (outage-budget.ts).
  const storeStep = storeStepFactory<DeleteInput>({
    timeoutMs: deps.stepTimeoutMs ?? 30_000,
    retry: (step) => storeRetry(deps.outage, 'delete', step),
    ...(deps.onBusy ? { onBusy: deps.onBusy } : {}),
  });

  const markDeleting = storeStep('postgres_mark_deleting', {
    retry: firstStepRetry(deps.outage, 'delete', 'postgres_mark_deleting'), // waits while another saga holds the document
    run: async (ctx, w): Promise<Found> => {
      const row = await stores.postgres.markDeleting(ctx.input.docId, w);
      const sha = row?.ingestionStatus === 'committed' || row?.ingestionStatus === 'deleting' ? row.contentSha256 : null;
      return { sha }; // ids and hashes only in the log (docs/erasure.md)
    },
    compensate: (ctx, w) => unlessBusy(stores.postgres.unmarkDeleting(ctx.input.docId, w)),
  });

  /** The version the first step found committed (older logs, or a first step that never finished: the plan). */
  const foundSha = (ctx: Ctx): string | null => {
    const out = ctx.result(markDeleting);
    return !out || out.sha === undefined ? ctx.input.sha : out.sha;
  };

  /**
   * The committed version as PostgreSQL holds it (chunks in order), for the compensations: only
   * while this saga holds the document (else nothing of ours to undo), and only the version the
   * first step found committed.
   */
  const committed = async (
    ctx: Ctx,
    // The chunking to rebuild (docs/reindex.md "Re-chunking"); `required: false` for a target still
    // being built, which may not have its chunks of this document yet (the reindex loop writes them).
    chunking = 1,
    required = true,
  ): Promise<DocumentVersion | undefined> => {
    const h = await holdOrSkip(stores, ctx.input.docId, writeContext(ctx));
    if (!h.held) return undefined;
    const docId = ctx.input.docId;
    const sha = foundSha(ctx);
    if (sha === null) return undefined;
    // Title and metadata as PostgreSQL holds them (the row stays until the pivot); older logs
    // carried them in the input, which serves when the row has none.
    const title = h.row?.title ?? ctx.input.title ?? '';
    const metadata = h.row?.metadata ?? ctx.input.metadata ?? {};
    const chunks = await stores.postgres.getChunks(docId, sha, chunking);
    if (chunks.length === 0 && !required) return undefined;
    if (chunks.length === 0) {
      throw new StoreError(
        'postgres',
        'STORE_PERMANENT',
        `cannot restore ${JSON.stringify(docId)}: no chunks of ${sha} left in PostgreSQL`,
      );
    }
    return versionFromChunks(
      docId,
      title,
      sha,
      metadata,
      chunks.map((c) => c.text),
      { chunking },
    );
  };
  const own = ownBinding(stores.qdrant, embedder);
  const plan = (): Promise<ChunkingPlan> => chunkingPlan(deps.targets);

  const redisDelete = storeStep('redis_delete', {
    run: async (ctx, w) => {
      await stores.redis.remove(ctx.input.docId, null, w);
      return null;
    },
    compensate: async (ctx, w) => {
      const v = await committed(ctx, (await plan()).active);
      if (!v) return;
      await stores.redis.put(
        { docId: v.docId, title: v.title, contentSha256: v.contentSha256, chunkCount: v.chunks.length, metadata: v.metadata },
        w,
      );
    },
  });
  const neo4jDelete = storeStep('neo4j_delete', {
    run: async (ctx, w) => {
      await stores.neo4j.removeDocument(ctx.input.docId, w);
      return null;
    },
    compensate: async (ctx, w) => {
      const p = await plan();
      for (const k of p.all) {
        const v = await committed(ctx, k, k === p.active);
        if (v) await stores.neo4j.writeVersion(v, w);
      }
    },
  });
  const qdrantDelete = storeStep('qdrant_delete', {
    // With the points go the cached embeddings of the document's chunks that no other document
    // uses (an embedding can be inverted into text). Here, not at the pivot: this saga holds the
    // document until the pivot, so every use of it is its own (the pivot's retry, after the
    // release, could meet a new saga's uses); `heldBy` makes the forget a no-op otherwise.
    // Dual writes (docs/reindex.md): the document also leaves every other vector target of a
    // reindex in progress, in this step (no step of their own: see ingest-saga.ts qdrant_write).
    run: async (ctx, w) => {
      const collections = await forEachTarget(deps.targets, own, (b) => b.store.removeDocument(ctx.input.docId, w));
      const embeddingsForgotten = await stores.postgres.forgetEmbeddings(ctx.input.docId, null, { heldBy: ctx.sagaId });
      return collections.length > 1 ? { embeddingsForgotten, collections } : { embeddingsForgotten };
    },
    // The committed version back into every target, each cut with its own chunking (from
    // PostgreSQL's rows of it) and embedded with its own embedder.
    compensate: async (ctx, w) => {
      const active = (await plan()).active;
      await forEachTarget(deps.targets, own, async (b) => {
        const c = await committed(ctx, b.target.chunking, b.target.chunking === active);
        if (!c) return; // not held, nothing committed, or a target still being built without it
        const texts = c.chunks.map((x) => x.text);
        const mine = await versionFromChunks(c.docId, c.title, c.contentSha256, c.metadata, texts, {
          embedder: b.embedder,
          signal: ctx.signal,
          ...cacheOption(deps, b.embedder, stores.postgres),
        });
        await b.store.writeVersion(mine, w);
      });
    },
  });
  /** Removes the staged content of the document's sagas that have ended (never a live one's). */
  const eraseEndedStaged = async (docId: string): Promise<number> => {
    if (!deps.endedSagas) return 0;
    let erased = 0;
    for (let after: string | undefined; ; ) {
      const page = await stores.postgres.listStaged({ docId, ...(after === undefined ? {} : { afterSagaId: after }) }, STAGED_PAGE);
      if (page.length > 0) erased += await stores.postgres.dropStagedInputs([...(await deps.endedSagas(page))]);
      if (page.length < STAGED_PAGE) return erased;
      after = page[page.length - 1]?.sagaId;
    }
  };
  const postgresDelete = storeStep('postgres_delete', {
    kind: 'pivot',
    run: async (ctx, w) => {
      await stores.postgres.deleteDocument(ctx.input.docId, w);
      // The receipt's record (ids only) only when the document is gone: a repeat after a later
      // saga re-created it must not claim an erasure (deleteDocument left that document alone).
      if ((await stores.postgres.getDocument(ctx.input.docId)) === undefined)
        await stores.postgres.recordErasure(ctx.input.docId, ctx.sagaId);
      return { stagedErased: await eraseEndedStaged(ctx.input.docId) };
    },
  });
  return defineSaga<DeleteInput>('delete', 1)
    .step(markDeleting)
    .parallel((g) => g.step(redisDelete).step(neo4jDelete).step(qdrantDelete))
    .step(postgresDelete)
    .build();
}
