// Who may write a document in PostgreSQL, checked inside each write's transaction:
//  - fencing: a stale owner of the same saga (an older lease token) is refused (write_fences);
//  - the single-writer rule: at most one unfinished saga holds a document (document_locks). A
//    saga's first write takes the document, its last write gives it back, and any write of another
//    saga meanwhile is refused with STORE_BUSY (retryable: the holder will finish or be recovered).
// Together they make every compensation safe: while a saga holds the document, no other saga can
// write or commit it, so what the compensation removes can only be this saga's own work.
import { StoreError } from './errors.js';
import type { SqlExecutor } from './relational-sql.js';
import type { WriteContext } from './types.js';

const fenced = (docId: string, ctx: WriteContext): StoreError =>
  new StoreError('postgres', 'STORE_FENCED', `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for document ${JSON.stringify(docId)}`);

/** Locks the document row (if any) and rejects a stale owner of the same saga. */
export async function lockAndFence(tx: SqlExecutor, docId: string, ctx: WriteContext): Promise<void> {
  await tx.query('SELECT id FROM documents WHERE id = $1 FOR UPDATE', [docId]);
  // Raises this saga's fence to our token, or returns no row when a newer token already wrote:
  // the fence survives even when the newer owner's compensation found nothing to delete.
  const raised = await tx.query<{ ok: number }>(
    `INSERT INTO write_fences (doc_id, saga_id, fencing_token) VALUES ($1, $2, $3::bigint)
     ON CONFLICT (doc_id, saga_id) DO UPDATE SET fencing_token = EXCLUDED.fencing_token
       WHERE write_fences.fencing_token <= EXCLUDED.fencing_token
     RETURNING 1 AS ok`,
    [docId, ctx.sagaId, ctx.fencingToken],
  );
  if (raised.length === 0) throw fenced(docId, ctx);
  const rows = await tx.query<{ fenced: boolean }>(
    `SELECT (EXISTS (SELECT 1 FROM documents WHERE id = $1 AND saga_id = $2 AND fencing_token > $3::bigint)
          OR EXISTS (SELECT 1 FROM document_versions WHERE doc_id = $1 AND saga_id = $2 AND fencing_token > $3::bigint)) AS fenced`,
    [docId, ctx.sagaId, ctx.fencingToken],
  );
  if (rows[0]?.fenced) throw fenced(docId, ctx);
}

/**
 * Takes the document for `ctx.sagaId`, or confirms it already holds it. The unique key orders
 * concurrent takers: the second waits for the first's transaction, then sees its row.
 */
export async function holdDocument(tx: SqlExecutor, docId: string, ctx: WriteContext): Promise<void> {
  const held = await tx.query<{ saga_id: string }>(
    `INSERT INTO document_locks (doc_id, saga_id) VALUES ($1, $2)
     ON CONFLICT (doc_id) DO UPDATE SET saga_id = document_locks.saga_id WHERE document_locks.saga_id = $2
     RETURNING saga_id`,
    [docId, ctx.sagaId],
  );
  if (held.length > 0) return;
  const holder = await tx.query<{ saga_id: string }>('SELECT saga_id FROM document_locks WHERE doc_id = $1', [docId]);
  throw busy(docId, holder[0]?.saga_id ?? 'another saga');
}

/** Gives the document back; only its holder can (a no-op for anyone else). */
export async function releaseDocument(tx: SqlExecutor, docId: string, ctx: WriteContext): Promise<void> {
  await tx.query('DELETE FROM document_locks WHERE doc_id = $1 AND saga_id = $2', [docId, ctx.sagaId]);
}

export class DocumentBusyError extends StoreError {
  readonly holder: string;
  constructor(docId: string, holder: string) {
    super('postgres', 'STORE_BUSY', `document ${JSON.stringify(docId)} is held by saga ${holder}`);
    this.holder = holder;
  }
}

function busy(docId: string, holder: string): DocumentBusyError {
  return new DocumentBusyError(docId, holder);
}
