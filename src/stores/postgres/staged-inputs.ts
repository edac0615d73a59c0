// Content by reference (docs/erasure.md): the statements behind StagedInputs, shared by the
// PostgreSQL adapter and the PGlite stand-in (postgres/sql-store.ts delegates here). Table
// saga_inputs (postgres/schema.ts): one row per saga id, written by the front before the saga
// begins, removed when the saga ends (its last step, its final compensation, or the sweep).
import type { StagedContent, StagedFilter, StagedRef } from '../types.js';
import type { SqlExecutor } from './sql-store.js';

interface StagedRecord {
  saga_id: string;
  doc_id: string;
  created_at: Date | string;
  age_ms: number | string;
}

export async function stageInput(db: SqlExecutor, sagaId: string, docId: string, content: StagedContent): Promise<void> {
  // A repeat with the same saga id (an idempotent retry of the same request) keeps the first row.
  await db.query(
    'INSERT INTO saga_inputs (saga_id, doc_id, content) VALUES ($1, $2, $3::jsonb) ON CONFLICT (saga_id) DO NOTHING',
    [sagaId, docId, JSON.stringify({ title: content.title, text: content.text, metadata: content.metadata })],
  );
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
  const rows = await db.query<{ saga_id: string }>('DELETE FROM saga_inputs WHERE saga_id = ANY($1::text[]) RETURNING saga_id', [[...sagaIds]]);
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
