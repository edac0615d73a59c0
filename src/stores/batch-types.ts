// Batched forms of the hot per-document store calls (the store group commit, docs/stores.md). An
// adapter that offers them lets src/stores/coalesce/ send the same call of concurrent sagas as one
// round trip. Contract of every batched call:
// - one outcome per item, in the items' order; a member's failure (fenced, busy, conflict, bad
//   input) is its own outcome and changes nothing for the others;
// - the call rejects only when the batch failed as a whole (connection, timeout, deadlock, a
//   rolled-back transaction): then nothing of it may be assumed applied or not (in doubt);
// - no two items name the same document (the coalescer guarantees it), and items carry no
//   AbortSignal (a member aborted before the send left the batch; after it, it waits like any
//   started call).
import type { MemberOutcome } from './coalesce/coalescer.js';
import type { CacheEntry, DocumentRow, DocumentVersion, WriteContext } from './types.js';

export type { MemberOutcome } from './coalesce/coalescer.js';

export type Outcomes<R = void> = Promise<Array<MemberOutcome<R>>>;

export interface WriteItem {
  v: DocumentVersion;
  ctx: WriteContext;
}

export interface RemoveVersionItem {
  docId: string;
  contentSha256: string;
  ctx?: WriteContext;
}

/** Graph and vector stores. */
export interface DerivedBatchWrites {
  writeVersionBatch(items: readonly WriteItem[]): Outcomes;
  removeVersionBatch(items: readonly RemoveVersionItem[]): Outcomes;
}

export interface CommitItem {
  docId: string;
  contentSha256: string;
  ctx: WriteContext;
  /** As RelationalWrites.commit: undefined = no check; null = no committed version expected. */
  expectedPrevious?: string | null;
}

export interface FinishItem {
  docId: string;
  previousSha: string | null;
  ctx: WriteContext;
}

/** PostgreSQL and PGlite: the saga's fenced writes on the hot path, fence checked per document. */
export interface RelationalBatchWrites {
  putPendingBatch(items: readonly WriteItem[]): Outcomes<{ previousSha: string | null }>;
  commitBatch(items: readonly CommitItem[]): Outcomes;
  finishVersionBatch(items: readonly FinishItem[]): Outcomes;
}

/** The pre-reads before a saga begins (same-content no-op, DOC_HELD, takeover). */
export interface RelationalBatchReads {
  /** getDocument and holderOf of many documents in one round trip. */
  documentStates(docIds: readonly string[]): Promise<Map<string, { row: DocumentRow | undefined; holder: string | undefined }>>;
}

export interface CacheRemoveItem {
  docId: string;
  contentSha256: string | null;
  ctx?: WriteContext;
}

export interface CacheBatchWrites {
  putBatch(items: ReadonlyArray<{ entry: CacheEntry; ctx: WriteContext }>): Outcomes;
  removeBatch(items: readonly CacheRemoveItem[]): Outcomes;
}

export function failed(error: unknown): MemberOutcome<never> {
  return { ok: false, error };
}

export const OK: MemberOutcome<void> = { ok: true, value: undefined };
