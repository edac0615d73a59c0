// The delete saga. A failed delete must leave the document fully present, so the derived stores'
// deletions are compensated by writing the committed version back, rebuilt from PostgreSQL (which
// still holds it: PostgreSQL is deleted last, as the pivot).
//   postgres_mark_deleting -> [redis_delete || neo4j_delete || qdrant_delete] -> postgres_delete (pivot)
import { defineSaga, type SagaDefinition, type StepDefinition } from '../../saga/index.js';
import { StoreError } from '../../stores/errors.js';
import type { DocumentVersion, StoreSet } from '../../stores/types.js';
import type { Embedder } from '../embedder.js';
import { versionFromChunks, type DeleteInput } from './version.js';

export interface DeleteDeps {
  stores: StoreSet;
  embedder: Embedder;
  stepTimeoutMs?: number;
}

type Step = StepDefinition<DeleteInput, unknown, unknown> & { name: string };
type Ctx = Parameters<Step['run']>[0];

const wctx = (ctx: Ctx) => ({ sagaId: ctx.sagaId, fencingToken: ctx.fencingToken, signal: ctx.signal });

export function deleteSaga(deps: DeleteDeps): SagaDefinition<DeleteInput, Record<string, unknown>> {
  const { stores, embedder } = deps;
  const timeoutMs = deps.stepTimeoutMs ?? 30_000;
  const retry = { maxAttempts: 4, initialDelayMs: 25, maxDelayMs: 1_000 };

  /** The committed version as PostgreSQL holds it (chunks in order), for the compensations. */
  const committed = async (ctx: Ctx, withEmbeddings: boolean): Promise<DocumentVersion | undefined> => {
    const { docId, sha, title, metadata } = ctx.input;
    if (sha === null) return undefined;
    const chunks = await stores.postgres.getChunks(docId, sha);
    if (chunks.length === 0) {
      throw new StoreError('postgres', 'STORE_PERMANENT', `cannot restore ${JSON.stringify(docId)}: no chunks of ${sha} left in PostgreSQL`);
    }
    const texts = chunks.map((c) => c.text);
    return versionFromChunks(docId, title, sha, metadata, texts, withEmbeddings ? { embedder, signal: ctx.signal } : {});
  };

  const markDeleting: Step = {
    name: 'postgres_mark_deleting',
    timeoutMs,
    retry,
    run: async (ctx) => {
      await stores.postgres.markDeleting(ctx.input.docId, wctx(ctx));
      return null;
    },
    compensate: async (ctx) => stores.postgres.unmarkDeleting(ctx.input.docId, wctx(ctx)),
  };
  const redisDelete: Step = {
    name: 'redis_delete',
    timeoutMs,
    retry,
    run: async (ctx) => {
      await stores.redis.remove(ctx.input.docId, null, wctx(ctx));
      return null;
    },
    compensate: async (ctx) => {
      const v = await committed(ctx, false);
      const { docId, sha, title, metadata } = ctx.input;
      if (!v || sha === null) return;
      await stores.redis.put({ docId, title, contentSha256: sha, chunkCount: v.chunks.length, metadata }, wctx(ctx));
    },
  };
  const neo4jDelete: Step = {
    name: 'neo4j_delete',
    timeoutMs,
    retry,
    run: async (ctx) => {
      await stores.neo4j.removeDocument(ctx.input.docId, wctx(ctx));
      return null;
    },
    compensate: async (ctx) => {
      const v = await committed(ctx, false);
      if (v) await stores.neo4j.writeVersion(v, wctx(ctx));
    },
  };
  const qdrantDelete: Step = {
    name: 'qdrant_delete',
    timeoutMs,
    retry,
    run: async (ctx) => {
      await stores.qdrant.removeDocument(ctx.input.docId, wctx(ctx));
      return null;
    },
    compensate: async (ctx) => {
      const v = await committed(ctx, true);
      if (v) await stores.qdrant.upsertVersion(v, wctx(ctx));
    },
  };
  const postgresDelete: Step = {
    name: 'postgres_delete',
    kind: 'pivot',
    timeoutMs,
    retry,
    run: async (ctx) => {
      await stores.postgres.deleteDocument(ctx.input.docId, wctx(ctx));
      return null;
    },
  };
  return defineSaga<DeleteInput>('delete', 1)
    .step(markDeleting)
    .parallel((g) => g.step(redisDelete).step(neo4jDelete).step(qdrantDelete))
    .step(postgresDelete)
    .build() as SagaDefinition<DeleteInput, Record<string, unknown>>;
}
