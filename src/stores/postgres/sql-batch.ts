// The RelationalStore's batched calls (store group commit), over the same SqlExecutor as
// sql-store.ts, so PostgreSQL (pg Pool) and PGlite run the same statement: one round trip (one
// PGlite call) per batch. Each member's SQLSTATE from batch-functions.ts becomes the same typed
// StoreError its per-document call would have thrown.
import { StoreError } from '../errors.js';
import { failed, type CommitItem, type FinishItem, type MemberOutcome, type Outcomes, type WriteItem } from '../batch-types.js';
import type { BatchRow } from './batch-functions.js';
import { classifyPgError } from './errors.js';
import { takeErrorOf } from './locks.js';
import { DOCUMENT_COLUMNS, toDocumentRow, type DocumentRecord } from './rows.js';
import type { SqlExecutor } from './sql-store.js';
import { chunkingOf, type DocumentRow, type WriteContext } from '../types.js';

/** A member's error as its per-document call reports it (fenced, busy, conflict, permanent...). */
export function memberError(what: string, row: BatchRow, docId: string, ctx: WriteContext, expectedPrevious?: string | null): StoreError {
  const raw = Object.assign(new Error(row.err_message ?? 'failed'), { code: row.err_state ?? '', detail: row.err_detail ?? '' });
  const taken = takeErrorOf(raw, docId, ctx);
  if (taken) return taken;
  if (row.err_state === 'AXC01') {
    return new StoreError(
      'postgres',
      'STORE_CONFLICT',
      `${what}: document ${JSON.stringify(docId)} changed meanwhile (now ${row.err_detail || 'none'}, expected ${expectedPrevious ?? 'none'})`,
    );
  }
  return classifyPgError(raw, what);
}

async function runBatch<I extends { ctx: WriteContext }, R>(
  db: SqlExecutor,
  fn: string,
  what: string,
  items: readonly I[],
  docOf: (it: I) => string,
  json: (it: I) => Record<string, unknown>,
  value: (row: BatchRow) => R,
  expectedOf: (it: I) => string | null | undefined = () => undefined,
): Outcomes<R> {
  if (items.length === 0) return [];
  const rows = await db.query<BatchRow>(`SELECT n, previous, err_state, err_message, err_detail FROM ${fn}($1::jsonb)`, [
    JSON.stringify(items.map(json)),
  ]);
  const byIndex = new Map(rows.map((r) => [Number(r.n), r]));
  return items.map((it, i): MemberOutcome<R> => {
    const row = byIndex.get(i);
    if (!row) return failed(new StoreError('postgres', 'STORE_PERMANENT', `${what}: no result for member ${i}`));
    if (row.err_state) return failed(memberError(what, row, docOf(it), it.ctx, expectedOf(it)));
    return { ok: true, value: value(row) };
  });
}

export function putPendingBatch(db: SqlExecutor, items: readonly WriteItem[]): Outcomes<{ previousSha: string | null }> {
  return runBatch(
    db,
    'apex_put_pending_batch',
    'putPending',
    items,
    (it) => it.v.docId,
    ({ v, ctx }) => ({
      doc: v.docId,
      sha: v.contentSha256,
      title: v.title,
      metadata: v.metadata,
      chunks: v.chunks.map((c) => ({ idx: c.idx, text: c.text, chunking: chunkingOf(v) })),
      saga: ctx.sagaId,
      token: ctx.fencingToken,
    }),
    (row) => ({ previousSha: row.previous ?? null }),
  );
}

export function commitBatch(db: SqlExecutor, items: readonly CommitItem[]): Outcomes {
  return runBatch(
    db,
    'apex_commit_batch',
    'commit',
    items,
    (it) => it.docId,
    (it) => ({
      doc: it.docId,
      sha: it.contentSha256,
      saga: it.ctx.sagaId,
      token: it.ctx.fencingToken,
      check: it.expectedPrevious !== undefined,
      expected: it.expectedPrevious ?? null,
    }),
    () => undefined,
    (it) => it.expectedPrevious,
  );
}

export function finishVersionBatch(db: SqlExecutor, items: readonly FinishItem[]): Outcomes {
  return runBatch(
    db,
    'apex_finish_version_batch',
    'finishVersion',
    items,
    (it) => it.docId,
    (it) => ({
      doc: it.docId,
      previous: it.previousSha,
      saga: it.ctx.sagaId,
      token: it.ctx.fencingToken,
    }),
    () => undefined,
  );
}

/** getDocument + holderOf of many documents: one statement (the pre-reads before sagas begin). */
export async function documentStates(
  db: SqlExecutor,
  docIds: readonly string[],
): Promise<Map<string, { row: DocumentRow | undefined; holder: string | undefined }>> {
  const out = new Map<string, { row: DocumentRow | undefined; holder: string | undefined }>();
  if (docIds.length === 0) return out;
  const cols = DOCUMENT_COLUMNS.split(', ')
    .map((c) => `d.${c}`)
    .join(', ');
  const rows = await db.query<Partial<DocumentRecord> & { q_id: string; holder: string | null }>(
    `SELECT q.id AS q_id, ${cols}, l.saga_id AS holder FROM unnest($1::text[]) AS q(id)
       LEFT JOIN documents d ON d.id = q.id LEFT JOIN document_locks l ON l.doc_id = q.id`,
    [[...docIds]],
  );
  for (const r of rows) {
    out.set(r.q_id, { row: r.id ? toDocumentRow(r as DocumentRecord) : undefined, holder: r.holder ?? undefined });
  }
  return out;
}
