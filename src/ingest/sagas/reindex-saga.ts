// The reindex saga (docs/reindex.md): rebuilds one document's vectors in the target a reindex
// builds (the active index record's `next`), from PostgreSQL's committed version.
//   postgres_take -> next_write -> postgres_release (pivot)
// postgres_take takes the document like any write (single-writer rule, fenced), so an update or a
// delete of the same document runs strictly before or after it, never interleaved: the version it
// embeds stays the committed one until it releases. next_write embeds that version's chunks with
// the target's embedder (embedding cache and coalescer included), writes them, and removes every
// other version of the document from the target (left by a dual write that a later saga replaced).
// A document with no committed version (deleted, failed) is removed from the target.
//
// Re-chunking (the target's chunking is not the active one's): next_write first gives PostgreSQL
// and the graph the committed version's chunks in the new chunking (chunksFor), then embeds those.
//
// Whose data can the compensation delete? Only the document's points in the target being built,
// and, when the target has a chunking of its own, that chunking's PostgreSQL rows and graph nodes
// of the document: only while the record still names it `next` (never an index or a chunking that
// serves reads), while this saga holds the document. The reindex loop re-checks every document, so
// it writes them again.
import { defineSaga, type SagaDefinition } from '../../saga/index.js';
import type { DocumentRow, StoreSet, WriteContext } from '../../stores/types.js';
import type { VectorTargets } from '../reindex/targets.js';
import { rechunk } from '../reindex/chunkings.js';
import { chunkingParams, type IndexState, type IndexTarget } from '../reindex/state.js';
import { holdOrSkip, unlessBusy } from './document-guard.js';
import { firstStepRetry, storeRetry, type OutageBudgets } from './outage-budget.js';
import { storeStepFactory } from './store-step.js';
import { cacheOption } from './cache-choice.js';
import type { Embedder } from '../embedder.js';
import { versionFromChunks } from './version.js';

export interface ReindexInput {
  docId: string;
}

export interface ReindexDeps {
  stores: StoreSet;
  targets: VectorTargets;
  stepTimeoutMs?: number;
  outage?: OutageBudgets;
  cacheEmbeddings?: boolean;
  /** Per embedder (cache-choice.ts): the target's embedder decides, not the process's own. */
  cacheFor?: (embedder: Embedder) => boolean;
  /** A step refused STORE_BUSY names the holder here (holder.ts BusyHolders: a dead owner's saga
   * is taken over and finished while this one waits, not after its whole wait budget). */
  onBusy?: (holder: string) => void;
}

export const REINDEX_SAGA = 'reindex';

export function reindexSaga(deps: ReindexDeps): SagaDefinition<ReindexInput, Record<string, unknown>> {
  const { stores, targets } = deps;
  const storeStep = storeStepFactory<ReindexInput>({
    timeoutMs: deps.stepTimeoutMs ?? 30_000,
    retry: (step) => storeRetry(deps.outage, REINDEX_SAGA, step),
    ...(deps.onBusy ? { onBusy: deps.onBusy } : {}),
  });
  const take = storeStep('postgres_take', {
    retry: firstStepRetry(deps.outage, REINDEX_SAGA, 'postgres_take'), // waits while another saga holds the document
    run: async (ctx, w) => {
      const row = await stores.postgres.acquire(ctx.input.docId, w);
      return { sha: row?.ingestionStatus === 'committed' ? row.contentSha256 : null };
    },
    compensate: (ctx, w) => unlessBusy(stores.postgres.release(ctx.input.docId, w)),
  });
  const nextWrite = storeStep('next_write', {
    run: async (ctx, w) => {
      // Fresh, not cached: a rollback or switch since the loop planned this document ends it here.
      const cur = await targets.record.read();
      const target = cur?.state.phase === 'migrating' ? cur.state.next : null;
      if (!target) return { collection: null, points: 0 };
      const b = targets.bind(target);
      const docId = ctx.input.docId;
      const sha = ctx.result(take)?.sha ?? null;
      const row = sha === null ? undefined : await stores.postgres.getDocument(docId);
      if (sha === null || !row) {
        await b.store.removeDocument(docId, w); // nothing committed: nothing of it belongs there
        return { collection: target.collection, points: 0 };
      }
      const texts = cur ? await chunksFor(cur.state, target, docId, sha, row, w) : [];
      const cache = cacheOption(deps, b.embedder, stores.postgres);
      const v = await versionFromChunks(docId, row.title, sha, row.metadata, texts, { embedder: b.embedder, signal: ctx.signal, ...cache });
      await b.store.writeVersion(v, w);
      for (const other of await b.store.listVersions(docId)) {
        if (other.contentSha256 !== sha) await b.store.removeVersion(docId, other.contentSha256, w);
      }
      return { collection: target.collection, points: v.chunks.length };
    },
    compensate: async (ctx, w) => {
      const h = await holdOrSkip(stores, ctx.input.docId, w);
      if (!h.held) return;
      const cur = await targets.record.read();
      const target = cur?.state.phase === 'migrating' ? cur.state.next : null;
      const sha = ctx.result(take)?.sha ?? null;
      if (!target || sha === null) return;
      await targets.bind(target).store.removeVersion(ctx.input.docId, sha, w);
      // A new chunking's rows and nodes of this document (never the serving chunking's): the
      // loop writes them again on its next pass.
      if (cur && target.chunking !== cur.state.active.chunking) {
        await stores.postgres.dropChunking([ctx.input.docId], target.chunking);
        await stores.neo4j.dropChunking([ctx.input.docId], target.chunking);
      }
    },
  });
  /**
   * The committed version's chunks in the target's chunking. A re-chunking reindex cuts them from
   * the serving chunking's rows when PostgreSQL has none of the new one yet (a dual write may have
   * written them already), writes them into PostgreSQL (a fenced write: this saga holds the
   * document) and the graph, so that all three hold the same chunks of the new chunking.
   */
  async function chunksFor(
    state: IndexState,
    target: IndexTarget,
    docId: string,
    sha: string,
    row: DocumentRow,
    w: WriteContext,
  ): Promise<string[]> {
    const k = target.chunking;
    const own = (await stores.postgres.getChunks(docId, sha, k)).map((c) => c.text);
    if (k === state.active.chunking) return own;
    let texts = own;
    if (texts.length === 0) {
      const serving = (await stores.postgres.getChunks(docId, sha, state.active.chunking)).map((c) => c.text);
      texts = rechunk(serving, chunkingParams(state, k));
      await stores.postgres.putPending(await versionFromChunks(docId, row.title, sha, row.metadata, texts, { chunking: k }), w);
    }
    await stores.neo4j.writeVersion(await versionFromChunks(docId, row.title, sha, row.metadata, texts, { chunking: k }), w);
    return texts;
  }
  const release = storeStep('postgres_release', {
    kind: 'pivot',
    run: async (ctx, w) => {
      await unlessBusy(stores.postgres.release(ctx.input.docId, w));
      return null;
    },
  });
  return defineSaga<ReindexInput>(REINDEX_SAGA, 1).step(take).step(nextWrite).step(release).build();
}
