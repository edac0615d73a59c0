// Conformance regressions found by the reliability work (issue 13), run on every RelationalStore.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { RelationalStore } from '../../../src/stores/types.js';
import { ctxFor, makeVersion } from './fixtures.js';

export function relationalRegressionCases(store: () => RelationalStore, id: (name: string) => string): void {
  void it('a delete pivot repeated after it applied, once another saga re-created the document, changes nothing', async () => {
    // Found by the deterministic simulation: the delete saga's last step applied (row gone, document
    // given back), its success was not recorded (crash), later sagas re-created the document, and
    // the recovered delete ran the step again: it took the document anew and deleted their work.
    const s = store();
    const v1 = makeVersion({ docId: id('redelete'), body: 'first life', chunkCount: 2 });
    const v2 = makeVersion({ docId: v1.docId, body: 'second life', chunkCount: 3 });
    const a = ctxFor('saga-rd-a');
    await s.putPending(v1, a);
    await s.commit(v1.docId, v1.contentSha256, a);
    await s.finishVersion(v1.docId, null, a);
    const del = ctxFor('saga-rd-delete');
    await s.markDeleting(v1.docId, del);
    await s.deleteDocument(v1.docId, del);
    assert.equal(await s.getDocument(v1.docId), undefined);
    const b = ctxFor('saga-rd-b');
    await s.putPending(v2, b);
    await s.commit(v2.docId, v2.contentSha256, b);
    await s.finishVersion(v2.docId, null, b);
    await s.deleteDocument(v1.docId, ctxFor('saga-rd-delete', 2)); // the recovered repeat
    const row = await s.getDocument(v1.docId);
    assert.equal(row?.ingestionStatus, 'committed');
    assert.equal(row?.contentSha256, v2.contentSha256);
    assert.equal((await s.getChunks(v2.docId, v2.contentSha256)).length, 3);
    assert.equal(await s.holderOf(v1.docId), undefined, 'the repeat took nothing');
  });

  void it('a delete pivot repeated after it applied, while a later saga holds the document, answers at once', async () => {
    // Found by the exhaustive scopes: the repeat took the document before it looked whether its
    // work was done, so it got STORE_BUSY from the later saga; retried past its budget (the holder
    // stuck), the engine would compensate a delete whose pivot had applied, which ends stuck.
    const s = store();
    const v1 = makeVersion({ docId: id('redelete-busy'), body: 'first life', chunkCount: 2 });
    const v2 = makeVersion({ docId: v1.docId, body: 'second life', chunkCount: 3 });
    const a = ctxFor('saga-rdb-a');
    await s.putPending(v1, a);
    await s.commit(v1.docId, v1.contentSha256, a);
    await s.finishVersion(v1.docId, null, a);
    const del = ctxFor('saga-rdb-delete');
    await s.markDeleting(v1.docId, del);
    await s.deleteDocument(v1.docId, del);
    const b = ctxFor('saga-rdb-b');
    await s.putPending(v2, b); // b holds the document and has not finished
    await s.deleteDocument(v1.docId, ctxFor('saga-rdb-delete', 2)); // the recovered repeat: no STORE_BUSY
    assert.equal(await s.holderOf(v1.docId), 'saga-rdb-b', 'b still holds it');
    await s.commit(v2.docId, v2.contentSha256, b);
    await s.finishVersion(v2.docId, null, b);
    assert.equal((await s.getDocument(v1.docId))?.contentSha256, v2.contentSha256);
    assert.equal((await s.getChunks(v2.docId, v2.contentSha256)).length, 3);
  });

  void it('a delete of a document that is gone gives the document back (its early answer keeps no lock)', async () => {
    // Found by the exhaustive scopes (delete+delete with a crash): a delete that took a document
    // another delete had removed marks nothing; its pivot must still give the document back.
    const s = store();
    const docId = id('delete-gone');
    const del = ctxFor('saga-dg-delete');
    assert.equal(await s.acquire(docId, del), undefined, 'nothing there');
    assert.equal(await s.holderOf(docId), 'saga-dg-delete');
    await s.markDeleting(docId, del);
    await s.deleteDocument(docId, del);
    assert.equal(await s.holderOf(docId), undefined);
  });
}
