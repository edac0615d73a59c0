// Content by reference (docs/erasure.md): the statements behind StagedInputs, shared by the
// PostgreSQL adapter and the PGlite stand-in (postgres/sql-store.ts delegates here). Table
// saga_inputs (postgres/schema.ts): one row per saga id, written by the front before the saga
// begins, removed when the saga ends (its last step, its final compensation, or the sweep); and
// table erasures, the delete saga's audit record (ids only).
import type { RelationalTraces, StagedContent, StagedFilter, StagedRef } from '../types.js';
import type { SqlExecutor } from './sql-store.js';

interface StagedRecord {
  saga_id: string;
  doc_id: string;
  created_at: Date | string;
  age_ms: number | string;
}

export async function stageInput(db: SqlExecutor, sagaId: string, docId: string, content: StagedContent): Promise<void> {
  // A repeat with the same saga id (an idempotent retry of the same request) keeps the first row.
  await db.query('INSERT INTO saga_inputs (saga_id, doc_id, content) VALUES ($1, $2, $3::jsonb) ON CONFLICT (saga_id) DO NOTHING', [
    sagaId,
    docId,
    JSON.stringify({ title: content.title, text: content.text, metadata: content.metadata }),
  ]);
}

export async function stagedInput(db: SqlExecutor, sagaId: string): Promise<{ docId: string; content: StagedContent } | undefined> {
  const rows = await db.query<{ doc_id: string; content: unknown }>('SELECT doc_id, content FROM saga_inputs WHERE saga_id = $1', [sagaId]);
  const r = rows[0];
  if (!r) return undefined;
  const raw = (typeof r.content === 'string' ? JSON.parse(r.content) : r.content) as Partial<StagedContent> | null;
  return {
    docId: r.doc_id,
    content: { title: String(raw?.title ?? ''), text: String(raw?.text ?? ''), metadata: (raw?.metadata ?? {}) as Record<string, unknown> },
  };
}

export async function dropStagedInputs(db: SqlExecutor, sagaIds: readonly string[]): Promise<number> {
  if (sagaIds.length === 0) return 0;
  const rows = await db.query<{ saga_id: string }>('DELETE FROM saga_inputs WHERE saga_id = ANY($1::text[]) RETURNING saga_id', [
    [...sagaIds],
  ]);
  return rows.length;
}

export async function listStaged(db: SqlExecutor, filter: StagedFilter, limit: number): Promise<StagedRef[]> {
  // Paged by saga id (byte order) so that a sweep that keeps live rows still moves on.
  const rows = await db.query<StagedRecord>(
    `SELECT saga_id, doc_id, created_at, (extract(epoch FROM (now() - created_at)) * 1000)::float8 AS age_ms FROM saga_inputs
     WHERE ($1::text IS NULL OR doc_id = $1::text) AND ($2::timestamptz IS NULL OR created_at < $2::timestamptz)
       AND ($3::text IS NULL OR saga_id COLLATE "C" > $3::text)
     ORDER BY saga_id COLLATE "C" LIMIT $4::integer`,
    [filter.docId ?? null, filter.before?.toISOString() ?? null, filter.afterSagaId ?? null, limit],
  );
  return rows.map((r) => ({ sagaId: r.saga_id, docId: r.doc_id, createdAt: new Date(r.created_at), ageMs: Number(r.age_ms) }));
}

export async function recordErasure(db: SqlExecutor, docId: string, sagaId: string): Promise<void> {
  await db.query(
    `INSERT INTO erasures (doc_id, saga_id) VALUES ($1, $2)
     ON CONFLICT (doc_id) DO UPDATE SET saga_id = EXCLUDED.saga_id, erased_at = now() WHERE erasures.saga_id <> EXCLUDED.saga_id`,
    [docId, sagaId],
  );
}

export async function erasureOf(db: SqlExecutor, docId: string): Promise<{ sagaId: string; erasedAt: Date } | undefined> {
  const rows = await db.query<{ saga_id: string; erased_at: Date | string }>('SELECT saga_id, erased_at FROM erasures WHERE doc_id = $1', [
    docId,
  ]);
  const r = rows[0];
  return r ? { sagaId: r.saga_id, erasedAt: new Date(r.erased_at) } : undefined;
}

export async function tracesOf(db: SqlExecutor, docId: string): Promise<RelationalTraces> {
  const rows = await db.query<Record<keyof RelationalTraces, string | number>>(
    `SELECT (SELECT count(*) FROM documents WHERE id = $1) AS documents,
            (SELECT count(*) FROM document_versions WHERE doc_id = $1) AS versions,
            (SELECT count(*) FROM chunks WHERE doc_id = $1) AS chunks,
            (SELECT count(*) FROM saga_inputs WHERE doc_id = $1) AS staged,
            (SELECT count(*) FROM write_fences WHERE doc_id = $1) AS fences,
            (SELECT count(*) FROM embedding_uses WHERE doc_id = $1) AS embeddings`,
    [docId],
  );
  const r = rows[0];
  return {
    documents: Number(r?.documents ?? 0),
    versions: Number(r?.versions ?? 0),
    chunks: Number(r?.chunks ?? 0),
    staged: Number(r?.staged ?? 0),
    fences: Number(r?.fences ?? 0),
    embeddings: Number(r?.embeddings ?? 0),
  };
}

/** The tables that hold content (documents, versions, chunks, staged inputs, cached embeddings). */
const CONTENT_TABLES = ['documents', 'document_versions', 'chunks', 'saga_inputs', 'embedding_cache'];

/**
 * apex-memory vacuum: plain VACUUM marks dead rows' space reusable (their bytes stay in the table
 * files until overwritten); VACUUM FULL rewrites the tables into new files without them. PGlite
 * (one process) also gets a CHECKPOINT. Measured (test/integration/erasure-embedded.test.ts): the
 * deleted content is then in no table file, but PGlite's current WAL segment (pg_wal) still holds
 * it until the segment is overwritten; pg_switch_wal did not move it on. On a server, checkpoints
 * and WAL recycling are the server's (checkpoint_timeout, max_wal_size, wal_keep_size, archives).
 */
export async function reclaim(db: SqlExecutor, full: boolean, embedded: boolean, schema?: string): Promise<string> {
  // A namespace's tables by their qualified names: VACUUM cannot run in the transaction that sets
  // search_path behind a pooler (relational-store.ts), so it must not depend on it.
  const tables = CONTENT_TABLES.map((t) => (schema !== undefined ? `${schema}.${t}` : t));
  for (const t of tables) await db.query(`VACUUM ${full ? '(FULL) ' : ''}${t}`);
  if (embedded) await db.query('CHECKPOINT');
  return `VACUUM${full ? ' FULL' : ''} ${tables.join(', ')}${embedded ? '; CHECKPOINT' : ''}`;
}
