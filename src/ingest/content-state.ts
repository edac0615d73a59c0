// What became of a saga's document content (docs/erasure.md), for `sagas show` and the API's saga
// view: the log holds ids and hashes only, the content is staged in PostgreSQL while the saga needs
// it, and a delete erases it. Older logs carry it inline.
import type { StoredSaga } from '../saga/index.js';
import type { RelationalStore } from '../stores/types.js';

export type ContentState =
  | { state: 'inline' } // logged before content by reference: in the log until the saga is pruned
  | { state: 'staged' } // in saga_inputs: the saga has not ended (or its removal has not run yet)
  | { state: 'erased'; bySaga: string; at: string } // the document was deleted since
  | { state: 'removed' } // the saga ended and its staged content was removed
  | { state: 'none' }; // not a document saga, or a delete (whose input never had content)

export async function contentStateOf(
  postgres: Pick<RelationalStore, 'stagedInput' | 'erasureOf' | 'getDocument'>,
  saga: StoredSaga,
): Promise<ContentState> {
  const input = (saga.input ?? {}) as { doc?: unknown; docId?: unknown };
  if (typeof input.doc === 'object' && input.doc !== null) return { state: 'inline' };
  if (saga.name === 'delete' || typeof input.docId !== 'string') return { state: 'none' };
  if (await postgres.stagedInput(saga.sagaId)) return { state: 'staged' };
  const erasure = await postgres.erasureOf(input.docId);
  if (erasure && erasure.erasedAt.getTime() >= saga.createdAt && !(await postgres.getDocument(input.docId))) {
    return { state: 'erased', bySaga: erasure.sagaId, at: erasure.erasedAt.toISOString() };
  }
  return { state: 'removed' };
}

export function describeContent(c: ContentState): string {
  switch (c.state) {
    case 'inline':
      return 'inline in the saga log (logged before content by reference; gone when the saga is pruned)';
    case 'staged':
      return 'staged in PostgreSQL (saga_inputs) while the saga needs it';
    case 'erased':
      return `erased: the document was deleted by saga ${c.bySaga} at ${c.at}`;
    case 'removed':
      return 'removed when the saga ended (the log keeps ids and hashes only)';
    case 'none':
      return '-';
  }
}
