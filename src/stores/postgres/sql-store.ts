// The RelationalStore logic, written once against a tiny SQL executor so the PostgreSQL adapter
// (pg Pool) and the PGlite stand-in run exactly the same statements with the same semantics.
// Every mutating method is one transaction that first locks the document row, then checks fencing
// and the single-writer rule (postgres/locks.ts).
import { StoreError } from '../errors.js';
import { keepFenceRaised, releaseDocument, sqlErrorFields, takeDocument, takeErrorOf } from './locks.js';
import { classifyPgError } from './errors.js';
import { DOCUMENT_COLUMNS, toDocumentRow, type DocumentRecord } from './rows.js';
import { FUNCTION_STATEMENTS } from './functions.js';
import { BATCH_FUNCTION_STATEMENTS } from './batch-functions.js';
import { commitBatch, documentStates, finishVersionBatch, putPendingBatch } from './sql-batch.js';
import type { CommitItem, FinishItem, Outcomes, RelationalBatchReads, RelationalBatchWrites, WriteItem } from '../batch-types.js';
import { SCHEMA_LOCK_KEY, SCHEMA_STATEMENTS } from './schema.js';
import * as staged from './staged-inputs.js';
import * as embeddings from './embedding-cache.js';
import * as indexState from './index-state.js';
import { withTimeout } from '../timeout.js';
import { chunkingOf } from '../types.js';
import type {
  DocumentInspection,
  DocumentRow,
  DocumentVersion,
  EmbeddingModel,
  EmbeddingUse,
  HealthReport,
  IndexStateStore,
  IngestionStatus,
  PendingVersion,
  RelationalStore,
  RelationalTraces,
  StagedContent,
  StagedFilter,
  StagedRef,
  StoredIndexState,
  WriteContext,
} from '../types.js';

export { classifyPgError } from './errors.js';

export interface SqlExecutor {
  query<R extends object>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface SqlDatabase extends SqlExecutor {
  /** Runs `fn` in one transaction (BEGIN/COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
}

export interface SqlRelationalOptions {
  backend: string;
  db: SqlDatabase;
  timeoutMs: number;
  /** Where it runs, for health(); never contains a secret. */
  describe: () => string;
  shutdown: () => Promise<void>;
  /** APEX_NAMESPACE's schema (a validated identifier), created at connect; `db` selects it. */
  schema?: string;
}

/** The transient holder of whileFree (never visible to other transactions). */
const WHILE_FREE_HOLDER = 'apex:while-free';

/** Removes chunks of a version unless it is the committed one (commit may race; the row lock orders them). */
const DELETE_UNCOMMITTED_CHUNKS = `DELETE FROM chunks WHERE doc_id = $1 AND content_sha256 = $2
  AND NOT EXISTS (SELECT 1 FROM documents WHERE id = $1 AND content_sha256 = $2)`;

export class SqlRelationalStore implements RelationalStore, IndexStateStore, RelationalBatchWrites, RelationalBatchReads {
  readonly name = 'postgres' as const;
  readonly backend: string;
  private readonly opts: SqlRelationalOptions;

  constructor(opts: SqlRelationalOptions) {
    this.opts = opts;
    this.backend = opts.backend;
  }

  private run<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withTimeout(
      'postgres',
      what,
      this.opts.timeoutMs,
      async () => {
        try {
          return await work();
        } catch (err) {
          throw classifyPgError(err, what);
        }
      },
      signal,
    );
  }

  /** A fenced write by the saga holding the document (taking it if free); `release` gives it back. */
  private write<T = void>(
    what: string,
    docId: string,
    ctx: WriteContext,
    body: (tx: SqlExecutor) => Promise<T>,
    opts: { release?: boolean } = {},
  ): Promise<T> {
    return this.fenced(what, docId, ctx, () =>
      this.opts.db.transaction(async (tx) => {
        await takeDocument(tx, docId, ctx);
        const out = await body(tx);
        if (opts.release) await releaseDocument(tx, docId, ctx);
        return out;
      }),
    );
  }

  /** A fenced call: apex_take's SQLSTATEs (postgres-functions.ts) become STORE_FENCED / STORE_BUSY
   * (or what `typed` makes of the others); a refusal after the fence raise keeps the raise. */
  private fenced<T>(
    what: string,
    docId: string,
    ctx: WriteContext,
    work: () => Promise<T>,
    typed: (err: unknown) => unknown = (err) => err,
  ): Promise<T> {
    return this.run(
      what,
      () =>
        work().catch(async (err: unknown) => {
          await keepFenceRaised(this.opts.db, err, docId, ctx);
          throw takeErrorOf(err, docId, ctx) ?? typed(err);
        }),
      ctx.signal,
    );
  }

  /** One server-side function call: its own implicit transaction, one round trip. */
  private async call<R extends object>(sql: string, params: unknown[]): Promise<R | undefined> {
    return (await this.opts.db.query<R>(sql, params))[0];
  }

  connect(): Promise<void> {
    return this.run('connect', () =>
      this.opts.db.transaction(async (tx) => {
        // Concurrent connects (several workers starting) would otherwise race on CREATE TABLE.
        await tx.query('SELECT pg_advisory_xact_lock($1::bigint)', [SCHEMA_LOCK_KEY]);
        // A namespace's schema (APEX_NAMESPACE) first: its tables are created in it (search_path).
        if (this.opts.schema !== undefined) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${this.opts.schema}`);
        for (const ddl of [
          ...SCHEMA_STATEMENTS,
          ...embeddings.EMBEDDING_CACHE_SCHEMA,
          ...FUNCTION_STATEMENTS,
          ...BATCH_FUNCTION_STATEMENTS,
        ])
          await tx.query(ddl);
      }),
    );
  }

  async health(): Promise<HealthReport> {
    try {
      const rows = await this.run('health', () => this.opts.db.query<{ v: string }>("SELECT current_setting('server_version') AS v"));
      return { ok: true, detail: `${this.backend} ${rows[0]?.v ?? '?'} at ${this.opts.describe()}` };
    } catch (err) {
      return { ok: false, detail: `${this.backend} at ${this.opts.describe()}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  close(): Promise<void> {
    return this.opts.shutdown();
  }

  putPending(v: DocumentVersion, ctx: WriteContext): Promise<{ previousSha: string | null }> {
    // One call (postgres-functions.ts apex_put_pending): take the document, the pending row, the
    // versions row and all chunks (a JSON array expanded server-side keeps it parameterized).
    const chunks = JSON.stringify(v.chunks.map((c) => ({ idx: c.idx, text: c.text, chunking: chunkingOf(v) })));
    return this.fenced('putPending', v.docId, ctx, async () => {
      const row = await this.call<{ previous: string | null }>(
        'SELECT apex_put_pending($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::bigint) AS previous',
        [v.docId, v.contentSha256, v.title, JSON.stringify(v.metadata), chunks, ctx.sagaId, ctx.fencingToken],
      );
      return { previousSha: row?.previous ?? null };
    });
  }

  // Batched forms (store group commit, sql-batch.ts): one call for many sagas' documents, one
  // outcome each; the call itself fails only as a whole (connection, timeout).
  putPendingBatch(items: readonly WriteItem[]): Outcomes<{ previousSha: string | null }> {
    return this.run('putPendingBatch', () => putPendingBatch(this.opts.db, items));
  }

  commitBatch(items: readonly CommitItem[]): Outcomes {
    return this.run('commitBatch', () => commitBatch(this.opts.db, items));
  }

  finishVersionBatch(items: readonly FinishItem[]): Outcomes {
    return this.run('finishVersionBatch', () => finishVersionBatch(this.opts.db, items));
  }

  documentStates(docIds: readonly string[]): ReturnType<RelationalBatchReads['documentStates']> {
    return this.run('documentStates', () => documentStates(this.opts.db, docIds));
  }

  discardPending(docId: string, contentSha256: string, ctx: WriteContext, opts: { release?: boolean } = {}): Promise<void> {
    return this.write(
      'discardPending',
      docId,
      ctx,
      async (tx) => {
        await tx.query('DELETE FROM document_versions WHERE doc_id = $1 AND content_sha256 = $2', [docId, contentSha256]);
        await tx.query(DELETE_UNCOMMITTED_CHUNKS, [docId, contentSha256]);
        await tx.query(
          `UPDATE documents SET ingestion_status = 'failed', saga_id = $2, fencing_token = $3::bigint, updated_at = now()
         WHERE id = $1 AND content_sha256 IS NULL AND NOT EXISTS (SELECT 1 FROM document_versions WHERE doc_id = $1)`,
          [docId, ctx.sagaId, ctx.fencingToken],
        );
      },
      opts,
    );
  }

  commit(docId: string, contentSha256: string, ctx: WriteContext, expectedPrevious?: string | null): Promise<void> {
    // One call (apex_commit): the check against expectedPrevious runs under the row lock, so no
    // commit can slip in between it and the update.
    return this.fenced(
      'commit',
      docId,
      ctx,
      async () => {
        await this.call('SELECT apex_commit($1, $2, $3, $4::bigint, $5, $6) AS done', [
          docId,
          contentSha256,
          ctx.sagaId,
          ctx.fencingToken,
          expectedPrevious !== undefined,
          expectedPrevious ?? null,
        ]);
      },
      (err) => {
        const { code, detail } = sqlErrorFields(err);
        if (code === 'AXC01') {
          return new StoreError(
            'postgres',
            'STORE_CONFLICT',
            `commit: document ${JSON.stringify(docId)} changed meanwhile (now ${detail || 'none'}, expected ${expectedPrevious ?? 'none'})`,
          );
        }
        if (code === 'AXP01')
          return new StoreError(
            'postgres',
            'STORE_PERMANENT',
            `commit: no pending version ${contentSha256} of document ${JSON.stringify(docId)}`,
          );
        return err;
      },
    );
  }

  removeVersion(docId: string, contentSha256: string): Promise<void> {
    return this.run('removeVersion', () =>
      this.opts.db.transaction(async (tx) => {
        await tx.query('SELECT id FROM documents WHERE id = $1 FOR UPDATE', [docId]);
        await tx.query(DELETE_UNCOMMITTED_CHUNKS, [docId, contentSha256]);
        // A pending row without its chunks must not be committable later.
        await tx.query('DELETE FROM document_versions WHERE doc_id = $1 AND content_sha256 = $2', [docId, contentSha256]);
      }),
    );
  }

  markDeleting(docId: string, ctx: WriteContext): Promise<DocumentRow | undefined> {
    return this.write('markDeleting', docId, ctx, async (tx) => {
      // The committed state as found under the lock: what the delete's compensations put back.
      const before = await tx.query<DocumentRecord>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = $1`, [docId]);
      await tx.query(
        // The committer waits in committed_saga_id (a repeat keeps it) until the delete ends.
        `UPDATE documents SET committed_saga_id = CASE WHEN ingestion_status = 'deleting' THEN committed_saga_id ELSE saga_id END,
           ingestion_status = 'deleting', saga_id = $2, fencing_token = $3::bigint, updated_at = now() WHERE id = $1`,
        [docId, ctx.sagaId, ctx.fencingToken],
      );
      return before[0] ? toDocumentRow(before[0]) : undefined;
    });
  }

  unmarkDeleting(docId: string, ctx: WriteContext): Promise<void> {
    return this.write(
      'unmarkDeleting',
      docId,
      ctx,
      async (tx) => {
        await tx.query(
          `UPDATE documents SET ingestion_status = CASE WHEN content_sha256 IS NULL THEN 'failed' ELSE 'committed' END,
           saga_id = CASE WHEN content_sha256 IS NULL THEN $2 ELSE coalesce(committed_saga_id, $2) END,
           fencing_token = $3::bigint, updated_at = now()
         WHERE id = $1 AND ingestion_status = 'deleting'`,
          [docId, ctx.sagaId, ctx.fencingToken],
        );
      },
      { release: true },
    );
  }

  deleteDocument(docId: string, ctx: WriteContext): Promise<void> {
    return this.fenced('deleteDocument', docId, ctx, () =>
      this.opts.db.transaction(async (tx) => {
        // Only the row this saga marked 'deleting' goes. A repeat of a delete that applied (and gave
        // the document back) before its success was recorded must not take the document again and
        // remove what later sagas wrote there (found by the deterministic simulation, issue 13).
        // No row marked by this saga: the delete applied already, or there was nothing to delete
        // (the document was gone when this saga took it). Give the document back if this saga still
        // holds it, without taking it first: a later saga may hold it now, and taking it gave a
        // finished pivot STORE_BUSY (a pivot that fails for good is compensated; found by the
        // exhaustive scopes, as was a lock left behind by an earlier form of this early answer).
        // Otherwise take it (fence, lock) and look again under the row lock.
        const marked = `SELECT id FROM documents WHERE id = $1 AND ingestion_status = 'deleting' AND saga_id = $2`;
        if ((await tx.query<{ id: string }>(marked, [docId, ctx.sagaId])).length === 0) {
          await releaseDocument(tx, docId, ctx);
          return;
        }
        await takeDocument(tx, docId, ctx);
        const mine = await tx.query<{ id: string }>(marked, [docId, ctx.sagaId]);
        if (mine.length > 0) {
          await tx.query('DELETE FROM chunks WHERE doc_id = $1', [docId]);
          await tx.query('DELETE FROM document_versions WHERE doc_id = $1', [docId]);
          await tx.query('DELETE FROM documents WHERE id = $1', [docId]);
        }
        await releaseDocument(tx, docId, ctx);
      }),
    );
  }

  async acquire(docId: string, ctx: WriteContext): Promise<DocumentRow | undefined> {
    const rows = await this.write('acquire', docId, ctx, (tx) =>
      tx.query<DocumentRecord>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = $1`, [docId]),
    );
    return rows[0] ? toDocumentRow(rows[0]) : undefined;
  }

  release(docId: string, ctx: WriteContext): Promise<void> {
    return this.finish('release', docId, null, ctx);
  }

  finishVersion(docId: string, previousSha: string | null, ctx: WriteContext): Promise<void> {
    return this.finish('finishVersion', docId, previousSha, ctx);
  }

  /** One call (apex_finish_version): removes previousSha (never the committed version) and releases. */
  private finish(what: string, docId: string, previousSha: string | null, ctx: WriteContext): Promise<void> {
    return this.fenced(what, docId, ctx, async () => {
      await this.call('SELECT apex_finish_version($1, $2, $3, $4::bigint) AS done', [docId, previousSha, ctx.sagaId, ctx.fencingToken]);
    });
  }

  async whileFree<T>(
    docId: string,
    work: (row: DocumentRow | undefined) => Promise<T>,
  ): Promise<{ free: true; value: T } | { free: false; holder: string }> {
    return this.run('whileFree', () =>
      this.opts.db.transaction(async (tx) => {
        // An uncommitted lock row: sagas that try to take the document wait for this transaction,
        // and it vanishes with it (committed deleted, or rolled back if this process dies).
        const taken = await tx.query<{ saga_id: string }>(
          `INSERT INTO document_locks (doc_id, saga_id) VALUES ($1, $2) ON CONFLICT (doc_id) DO NOTHING RETURNING saga_id`,
          [docId, WHILE_FREE_HOLDER],
        );
        if (taken.length === 0) {
          const holder = await tx.query<{ saga_id: string }>('SELECT saga_id FROM document_locks WHERE doc_id = $1', [docId]);
          return { free: false as const, holder: holder[0]?.saga_id ?? '?' };
        }
        const rows = await tx.query<DocumentRecord>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = $1 FOR UPDATE`, [docId]);
        const value = await work(rows[0] ? toDocumentRow(rows[0]) : undefined);
        await tx.query('DELETE FROM document_locks WHERE doc_id = $1 AND saga_id = $2', [docId, WHILE_FREE_HOLDER]);
        return { free: true as const, value };
      }),
    );
  }

  async holderOf(docId: string): Promise<string | undefined> {
    const rows = await this.run('holderOf', () =>
      this.opts.db.query<{ saga_id: string }>('SELECT saga_id FROM document_locks WHERE doc_id = $1', [docId]),
    );
    return rows[0]?.saga_id;
  }

  async listHeld(afterId: string | null, limit: number): Promise<Array<{ docId: string; sagaId: string }>> {
    const rows = await this.run('listHeld', () =>
      this.opts.db.query<{ doc_id: string; saga_id: string }>(
        `SELECT doc_id, saga_id FROM document_locks WHERE ($1::text IS NULL OR doc_id COLLATE "C" > $1::text)
       ORDER BY doc_id COLLATE "C" LIMIT $2::integer`,
        [afterId, limit],
      ),
    );
    return rows.map((r) => ({ docId: r.doc_id, sagaId: r.saga_id }));
  }

  async pendingStats(): Promise<{ pending: number; oldestPendingAt: Date | null }> {
    const rows = await this.run('pendingStats', () =>
      this.opts.db.query<{ n: string | number; oldest: Date | string | null }>(
        `SELECT count(DISTINCT doc_id) AS n, min(since) AS oldest FROM (
         SELECT id AS doc_id, updated_at AS since FROM documents WHERE ingestion_status = 'pending'
         UNION ALL SELECT doc_id, created_at FROM document_versions) AS p`,
      ),
    );
    const r = rows[0];
    return { pending: Number(r?.n ?? 0), oldestPendingAt: r?.oldest ? new Date(r.oldest) : null };
  }

  async getDocument(docId: string): Promise<DocumentRow | undefined> {
    const rows = await this.run('getDocument', () =>
      this.opts.db.query<DocumentRecord>(`SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE id = $1`, [docId]),
    );
    return rows[0] ? toDocumentRow(rows[0]) : undefined;
  }

  getChunks(docId: string, contentSha256: string, chunking = 1): Promise<Array<{ idx: number; text: string }>> {
    return this.run('getChunks', () =>
      this.opts.db.query<{ idx: number; text: string }>(
        'SELECT idx, text FROM chunks WHERE doc_id = $1 AND content_sha256 = $2 AND chunking = $3::integer ORDER BY idx',
        [docId, contentSha256, chunking],
      ),
    );
  }

  async dropChunking(docIds: readonly string[], chunking: number): Promise<number> {
    if (docIds.length === 0) return 0;
    // doc_id leads the primary key: each page is an index range per document, never a table scan.
    const rows = await this.run('dropChunking', () =>
      this.opts.db.query<{ n: string | number }>(
        `WITH gone AS (DELETE FROM chunks WHERE doc_id = ANY($1::text[]) AND chunking = $2::integer RETURNING 1)
         SELECT count(*) AS n FROM gone`,
        [[...docIds], chunking],
      ),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async getPendingVersions(docId: string): Promise<PendingVersion[]> {
    const rows = await this.run('getPendingVersions', () =>
      this.opts.db.query<{ doc_id: string; content_sha256: string; saga_id: string; title: string }>(
        'SELECT doc_id, content_sha256, saga_id, title FROM document_versions WHERE doc_id = $1 ORDER BY created_at, content_sha256',
        [docId],
      ),
    );
    return rows.map((r) => ({ docId: r.doc_id, contentSha256: r.content_sha256, sagaId: r.saga_id, title: r.title }));
  }

  async listDocuments(afterId: string | null, limit: number): Promise<DocumentRow[]> {
    // COLLATE "C": byte order, the same order the other stores page in, whatever the database locale.
    const rows = await this.run('listDocuments', () =>
      this.opts.db.query<DocumentRecord>(
        `SELECT ${DOCUMENT_COLUMNS} FROM documents WHERE ($1::text IS NULL OR id COLLATE "C" > $1::text)
       ORDER BY id COLLATE "C" LIMIT $2::integer`,
        [afterId, limit],
      ),
    );
    return rows.map(toDocumentRow);
  }

  async inspectDocuments(afterId: string | null, limit: number, chunking = 1): Promise<DocumentInspection[]> {
    // One statement per page: the committed chunk count and the in-flight versions come from
    // correlated subqueries on the primary keys (verify at scale: no per-document round trip).
    const rows = await this.run('inspectDocuments', () =>
      this.opts.db.query<DocumentRecord & { committed_chunks: string | number; pending: unknown }>(
        `SELECT ${DOCUMENT_COLUMNS},
         (SELECT count(*) FROM chunks c WHERE c.doc_id = d.id AND c.content_sha256 = d.content_sha256
            AND c.chunking = $3::integer) AS committed_chunks,
         (SELECT json_agg(json_build_array(v.content_sha256, v.saga_id, v.title) ORDER BY v.created_at, v.content_sha256)
            FROM document_versions v WHERE v.doc_id = d.id) AS pending
       FROM documents d WHERE ($1::text IS NULL OR id COLLATE "C" > $1::text)
       ORDER BY id COLLATE "C" LIMIT $2::integer`,
        [afterId, limit, chunking],
      ),
    );
    return rows.map((r) => {
      const raw = typeof r.pending === 'string' ? (JSON.parse(r.pending) as unknown) : r.pending;
      const pending = Array.isArray(raw) ? (raw as Array<[string, string, string]>) : [];
      return {
        row: toDocumentRow(r),
        committedChunks: Number(r.committed_chunks),
        pendingVersions: pending.map(([contentSha256, sagaId, title]) => ({ docId: r.id, contentSha256, sagaId, title })),
      };
    });
  }

  async statusesOf(docIds: readonly string[]): Promise<Map<string, IngestionStatus>> {
    if (docIds.length === 0) return new Map();
    const rows = await this.run('statusesOf', () =>
      this.opts.db.query<{ id: string; ingestion_status: IngestionStatus }>(
        'SELECT id, ingestion_status FROM documents WHERE id = ANY($1::text[])',
        [[...docIds]],
      ),
    );
    return new Map(rows.map((r) => [r.id, r.ingestion_status]));
  }

  // Content by reference (postgres/staged-inputs.ts, docs/erasure.md).
  stageInput(sagaId: string, docId: string, content: StagedContent): Promise<void> {
    return this.run('stageInput', () => staged.stageInput(this.opts.db, sagaId, docId, content));
  }

  stagedInput(sagaId: string): Promise<{ docId: string; content: StagedContent } | undefined> {
    return this.run('stagedInput', () => staged.stagedInput(this.opts.db, sagaId));
  }

  dropStagedInputs(sagaIds: readonly string[]): Promise<number> {
    return this.run('dropStagedInputs', () => staged.dropStagedInputs(this.opts.db, sagaIds));
  }

  listStaged(filter: StagedFilter, limit: number): Promise<StagedRef[]> {
    return this.run('listStaged', () => staged.listStaged(this.opts.db, filter, limit));
  }

  recordErasure(docId: string, sagaId: string): Promise<void> {
    return this.run('recordErasure', () => staged.recordErasure(this.opts.db, docId, sagaId));
  }

  erasureOf(docId: string): Promise<{ sagaId: string; erasedAt: Date } | undefined> {
    return this.run('erasureOf', () => staged.erasureOf(this.opts.db, docId));
  }

  tracesOf(docId: string): Promise<RelationalTraces> {
    return this.run('tracesOf', () => staged.tracesOf(this.opts.db, docId));
  }

  lookupEmbeddings(use: EmbeddingUse, model: EmbeddingModel, textSha256s: readonly string[]): Promise<Map<string, number[]>> {
    return this.run('lookupEmbeddings', () => embeddings.lookupEmbeddings(this.opts.db, use, model, textSha256s));
  }

  putEmbeddings(
    use: EmbeddingUse,
    model: EmbeddingModel,
    entries: ReadonlyArray<{ textSha256: string; embedding: readonly number[] }>,
  ): Promise<void> {
    return this.run('putEmbeddings', () => embeddings.putEmbeddings(this.opts.db, use, model, entries));
  }

  forgetEmbeddings(docId: string, contentSha256: string | null, opts: { heldBy?: string } = {}): Promise<number> {
    return this.run('forgetEmbeddings', () => embeddings.forgetEmbeddings(this.opts.db, docId, contentSha256, opts.heldBy));
  }

  readIndexState(): Promise<StoredIndexState | undefined> {
    return this.run('readIndexState', () => indexState.readIndexState(this.opts.db));
  }

  writeIndexState(expectedVersion: number, state: unknown): Promise<number | null> {
    return this.run('writeIndexState', () => indexState.writeIndexState(this.opts.db, expectedVersion, state));
  }

  reclaim(opts: { full: boolean }): Promise<string> {
    return staged.reclaim(this.opts.db, opts.full, this.backend === 'pglite', this.opts.schema); // no timeout: VACUUM FULL takes its time
  }
}
