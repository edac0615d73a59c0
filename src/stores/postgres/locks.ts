// Who may write a document in PostgreSQL, checked inside each write's transaction:
//  - fencing: a stale owner of the same saga (an older lease token) is refused (write_fences);
//  - the single-writer rule: at most one unfinished saga holds a document (document_locks). A
//    saga's first write takes the document, its last write gives it back, and any write of another
//    saga meanwhile is refused with STORE_BUSY (retryable: the holder will finish or be recovered).
// Together they make every compensation safe: while a saga holds the document, no other saga can
// write or commit it, so what the compensation removes can only be this saga's own work.
//
// The checks run server-side in one statement, apex_take (postgres-functions.ts: lock the row,
// raise the fence, check it, take the document); this file calls it, turns its SQLSTATEs back
// into typed errors, and keeps the fence raised when the call is refused after the raise.
import { StoreError } from '../errors.js';
import type { SqlExecutor } from './sql-store.js';
import type { WriteContext } from '../types.js';
import { errorCode } from '../../lib/errors.js';

const fenced = (docId: string, ctx: WriteContext): StoreError =>
  new StoreError('postgres', 'STORE_FENCED', `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for document ${JSON.stringify(docId)}`);

/**
 * Locks the document row (if any), rejects a stale owner of the same saga, and takes the document
 * for `ctx.sagaId` (or confirms it holds it). Returns the committed version found under the lock.
 */
export async function takeDocument(tx: SqlExecutor, docId: string, ctx: WriteContext): Promise<string | null> {
  const rows = await tx.query<{ sha: string | null }>('SELECT apex_take($1, $2, $3::bigint) AS sha', [docId, ctx.sagaId, ctx.fencingToken]);
  return rows[0]?.sha ?? null;
}

/** Gives the document back; only its holder can (a no-op for anyone else). */
export async function releaseDocument(tx: SqlExecutor, docId: string, ctx: WriteContext): Promise<void> {
  await tx.query('DELETE FROM document_locks WHERE doc_id = $1 AND saga_id = $2', [docId, ctx.sagaId]);
}

/** SQLSTATEs of a refusal that comes after apex_take raised the fence (busy, conflict, no pending
 * version): its rollback took the raise with it. */
const REFUSED_AFTER_RAISE: ReadonlySet<string> = new Set(['AXB01', 'AXC01', 'AXP01']);

/**
 * After a fenced call failed with `err`: when it was refused after its fence check passed, raises
 * the fence again in a statement of its own (functions.ts, apex_raise_fence: why). Only refusals
 * pay this round trip; a failure of it fails the call (transient) rather than answer a refusal
 * whose fence stayed low.
 */
export async function keepFenceRaised(db: SqlExecutor, err: unknown, docId: string, ctx: WriteContext): Promise<void> {
  if (!REFUSED_AFTER_RAISE.has(sqlErrorFields(err).code)) return;
  await db.query('SELECT apex_raise_fence($1, $2, $3::bigint) AS done', [docId, ctx.sagaId, ctx.fencingToken]);
}

/** The typed error for apex_take's own SQLSTATEs (fenced, busy); undefined for any other error. */
export function takeErrorOf(err: unknown, docId: string, ctx: WriteContext): StoreError | undefined {
  const { code, detail } = sqlErrorFields(err);
  if (code === 'AXF01') return fenced(docId, ctx);
  if (code === 'AXB01') return new DocumentBusyError(docId, detail || 'another saga');
  return undefined;
}

/** SQLSTATE and DETAIL of a pg / PGlite error ('' when absent). */
export function sqlErrorFields(err: unknown): { code: string; detail: string } {
  if (typeof err !== 'object' || err === null) return { code: '', detail: '' };
  const { detail } = err as { detail?: unknown };
  return { code: errorCode(err) ?? '', detail: typeof detail === 'string' ? detail : '' };
}

export class DocumentBusyError extends StoreError {
  readonly holder: string;
  constructor(docId: string, holder: string) {
    super('postgres', 'STORE_BUSY', `document ${JSON.stringify(docId)} is held by saga ${holder}`);
    this.holder = holder;
  }
}
