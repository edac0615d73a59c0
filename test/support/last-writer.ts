// The oracle of the same-document tests: "each document's content is that of the last saga that
// completed on it, or the document is absent if that saga was a delete".
import assert from 'node:assert/strict';
import type { SagaLogBackend, StoredSaga } from '../../src/saga/index.js';
import type { StoreSet } from '../../src/stores/types.js';
import { allSagas } from './log-pages.js';

/** What the oracle reads: the saga log and the stores (an App has both). */
export interface Observed {
  profile: { log: SagaLogBackend };
  stores: StoreSet;
}

function docOf(s: StoredSaga): { docId: string; sha: string | null; kind: 'ingest' | 'delete' } {
  // Both input shapes: { docId, sha } (content by reference) and { doc, sha } (older logs).
  const input = s.input as { doc?: { id: string }; sha?: string; docId?: string };
  const docId = input.docId ?? input.doc?.id ?? '?';
  if (s.name === 'delete') return { docId, sha: null, kind: 'delete' };
  return { docId, sha: input.sha ?? null, kind: 'ingest' };
}

/**
 * Checks, from the saga log and PostgreSQL, that each document holds what the last completed
 * saga on it left: a committed document's content is that of the completed ingest saga that
 * PostgreSQL names, and no saga on it that began after that one ended has completed; a document
 * that is not there was removed by a completed delete after which no ingest began and completed.
 */
export async function checkLastWriterWins(app: Observed, label: string, minCompleted: number): Promise<void> {
  const completed: StoredSaga[] = [];
  for (const summary of await allSagas(app.profile.log, { status: 'completed' })) {
    const s = await app.profile.log.load(summary.sagaId);
    if (s) completed.push(s);
  }
  const byDoc = new Map<string, StoredSaga[]>();
  for (const s of completed) {
    const d = docOf(s).docId;
    byDoc.set(d, [...(byDoc.get(d) ?? []), s]);
  }
  if (minCompleted > 0) console.log(`${completed.length} completed sagas over ${byDoc.size} documents`);
  assert.ok(completed.length >= minCompleted, `only ${completed.length} sagas completed: the run proves little`);
  for (const [docId, sagas] of byDoc) {
    const row = await app.stores.postgres.getDocument(docId);
    if (row?.ingestionStatus === 'committed') {
      const committer = sagas.find((s) => s.sagaId === row.sagaId);
      assert.ok(committer, `${docId}: committed by ${row.sagaId ?? '?'}, which is not a completed saga (${label})`);
      assert.equal(docOf(committer).sha, row.contentSha256, `${docId}: content is not its committer's`);
      const later = sagas.filter((s) => s.createdAt > committer.updatedAt);
      assert.deepEqual(
        later.map((s) => s.sagaId),
        [],
        `${docId}: sagas completed after the committer ended (${label})`,
      );
    } else {
      const deletes = sagas.filter((s) => docOf(s).kind === 'delete');
      const lastDelete = deletes.reduce<StoredSaga | undefined>((a, s) => (a && a.updatedAt > s.updatedAt ? a : s), undefined);
      const ingests = sagas.filter((s) => docOf(s).kind === 'ingest');
      if (ingests.length === 0) continue;
      assert.ok(lastDelete, `${docId}: absent although ingests completed and no delete did (${label})`);
      const after = ingests.filter((s) => s.createdAt > lastDelete.updatedAt);
      assert.deepEqual(
        after.map((s) => s.sagaId),
        [],
        `${docId}: absent although an ingest began after the last delete ended`,
      );
    }
  }
}
