// Conformance cases for chunkings (docs/reindex.md "Re-chunking"): PostgreSQL and the graph store
// keep two chunkings of one version side by side, read and count each by its chunking, remove one
// chunking alone (reindex --finish, a re-chunking saga's compensation), and remove every chunking
// with a version or a document. Called inside each store suite's describe.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { DocumentVersion, GraphStore, RelationalStore } from '../../../src/stores/types.js';
import { ctxFor, makeVersion } from './fixtures.js';

/** The same content as `v`, cut into `count` chunks under chunking `chunking` (other texts, other
 * entities: `Rechunked <i>` is mentioned by the new chunking only). */
export function rechunked(v: DocumentVersion, chunking: number, count: number): DocumentVersion {
  const text = v.chunks.map((c) => c.text).join('');
  const size = Math.ceil(text.length / count);
  return {
    ...v,
    chunking,
    chunks: Array.from({ length: count }, (_, idx) => ({
      idx,
      text: text.slice(idx * size, (idx + 1) * size),
      entities: [`Rechunked ${idx}`, 'Entity 0'],
      embedding: [],
    })),
  };
}

const texts = (v: DocumentVersion): Array<{ idx: number; text: string }> => v.chunks.map((c) => ({ idx: c.idx, text: c.text }));

export function relationalChunkingCases(store: () => RelationalStore, id: (name: string) => string): void {
  void it('chunkings: two chunkings of one version side by side, read and counted per chunking; dropChunking removes one alone', async () => {
    const s = store();
    const ctx = ctxFor('saga-chunkings');
    const v = makeVersion({ docId: id('chunkings-a'), body: 'one version cut two ways: first the old way, then the new', chunkCount: 3 });
    const v2 = rechunked(v, 2, 5);
    await s.putPending(v, ctx);
    await s.putPending(v2, ctx); // the dual write of an ingest during a re-chunking reindex
    await s.commit(v.docId, v.contentSha256, ctx);
    assert.deepEqual(await s.getChunks(v.docId, v.contentSha256), texts(v));
    assert.deepEqual(await s.getChunks(v.docId, v.contentSha256, 1), texts(v));
    assert.deepEqual(await s.getChunks(v.docId, v.contentSha256, 2), texts(v2));
    assert.deepEqual(await s.getChunks(v.docId, v.contentSha256, 3), []);
    const inspect = async (chunking?: number): Promise<number | undefined> =>
      (await s.inspectDocuments(id('chunkings-'), 10, chunking)).find((d) => d.row.id === v.docId)?.committedChunks;
    assert.equal(await inspect(), 3);
    assert.equal(await inspect(1), 3);
    assert.equal(await inspect(2), 5);
    assert.equal((await s.tracesOf(v.docId)).chunks, 8);
    assert.equal(await s.dropChunking([v.docId, id('chunkings-absent')], 2), 5);
    assert.deepEqual(await s.getChunks(v.docId, v.contentSha256, 2), []);
    assert.deepEqual(await s.getChunks(v.docId, v.contentSha256), texts(v), 'the other chunking is untouched');
    assert.equal(await s.dropChunking([v.docId], 2), 0, 'a repeat finds nothing');
    // A re-chunking saga writes the committed version's new chunking through putPending again: no
    // version in flight appears, the committed one stays.
    await s.putPending(v2, ctx);
    assert.deepEqual(await s.getPendingVersions(v.docId), []);
    assert.equal((await s.getDocument(v.docId))?.contentSha256, v.contentSha256);
    assert.equal(await inspect(2), 5);
    await s.release(v.docId, ctx);
  });

  void it('chunkings: discarding a version in flight and deleting the document remove every chunking', async () => {
    const s = store();
    const ctx = ctxFor('saga-chunkings-rm');
    const v = makeVersion({ docId: id('chunkings-b'), body: 'committed first, in both chunkings', chunkCount: 2 });
    await s.putPending(v, ctx);
    await s.putPending(rechunked(v, 2, 3), ctx);
    await s.commit(v.docId, v.contentSha256, ctx);
    const w = makeVersion({ docId: v.docId, body: 'an update that fails, in both chunkings', chunkCount: 2 });
    await s.putPending(w, ctx);
    await s.putPending(rechunked(w, 2, 4), ctx);
    assert.equal((await s.tracesOf(v.docId)).chunks, 2 + 3 + 2 + 4);
    await s.discardPending(v.docId, w.contentSha256, ctx);
    assert.equal((await s.tracesOf(v.docId)).chunks, 2 + 3, 'the failed version is gone in both chunkings, the committed one stays');
    assert.deepEqual(await s.getChunks(v.docId, w.contentSha256, 2), []);
    await s.markDeleting(v.docId, ctx);
    await s.deleteDocument(v.docId, ctx);
    assert.equal((await s.tracesOf(v.docId)).chunks, 0, 'no chunk of any chunking is left');
  });
}

export function graphChunkingCases(store: () => GraphStore, id: (name: string) => string): void {
  void it('chunkings: chunk nodes of two chunkings beside each other, listed per chunking; dropChunking removes one alone', async () => {
    const s = store();
    const ctx = ctxFor('saga-chunkings');
    const v = makeVersion({ docId: id('chunkings-a'), body: 'one version cut two ways in the graph', chunkCount: 3 });
    const v2 = rechunked(v, 2, 5);
    await s.writeVersion(v, ctx);
    await s.writeVersion(v2, ctx);
    await s.writeVersion(v2, ctx); // idempotent
    const both = [
      { docId: v.docId, contentSha256: v.contentSha256, chunkCount: 3 },
      { docId: v.docId, contentSha256: v.contentSha256, chunkCount: 5, chunking: 2 },
    ];
    assert.deepEqual(await s.listVersions(v.docId), both);
    assert.deepEqual(await s.versionsOf([v.docId]), both);
    assert.ok((await s.entities(v.docId, v.contentSha256)).includes('Rechunked 4'));
    assert.equal(await s.dropChunking([v.docId, id('chunkings-absent')], 2), 5);
    assert.deepEqual(await s.listVersions(v.docId), [both[0]]);
    assert.ok(!(await s.entities(v.docId, v.contentSha256)).includes('Rechunked 4'), 'mentions of the dropped chunking are gone');
    assert.ok((await s.entities(v.docId, v.contentSha256)).includes('Entity 0'), 'shared entities stay');
    assert.equal(await s.dropChunking([v.docId], 2), 0, 'a repeat finds nothing');
    // Dropping the only chunking a document has removes the document too.
    assert.equal(await s.dropChunking([v.docId], 1), 3);
    assert.deepEqual(await s.listVersions(v.docId), []);
    assert.deepEqual(await s.listDocIds(v.docId.slice(0, -1), 1000).then((ids) => ids.filter((d) => d === v.docId)), []);
  });

  void it('chunkings: removeVersion and removeDocument remove every chunking', async () => {
    const s = store();
    const ctx = ctxFor('saga-chunkings-rm');
    const v = makeVersion({ docId: id('chunkings-b'), body: 'removed in every chunking', chunkCount: 2 });
    const w = makeVersion({ docId: v.docId, body: 'the next version, also in two chunkings', chunkCount: 2 });
    for (const x of [v, rechunked(v, 2, 3), w, rechunked(w, 3, 4)]) await s.writeVersion(x, ctx);
    await s.removeVersion(v.docId, v.contentSha256, ctx);
    assert.deepEqual(await s.listVersions(v.docId), [
      ...[
        { docId: v.docId, contentSha256: w.contentSha256, chunkCount: 2 },
        { docId: v.docId, contentSha256: w.contentSha256, chunkCount: 4, chunking: 3 },
      ],
    ]);
    await s.removeDocument(v.docId, ctx);
    assert.deepEqual(await s.listVersions(v.docId), []);
    assert.deepEqual(await s.versionsOf([v.docId]), []);
  });
}
