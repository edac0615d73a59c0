// Conformance cases of the embedding cache (EmbeddingCacheStore, src/stores/postgres/embedding-cache.ts)
// on every relational store (the PostgreSQL server and PGlite): exact vectors back, keyed by model
// and dimension; a forget removes only what no other document or version uses; two documents
// sharing an entry and forgotten at once leave no entry without a use; tracesOf counts the uses.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { RelationalStore } from '../../../src/stores/types.js';
import { ctxFor } from './fixtures.js';

export function relationalEmbeddingCacheCases(store: () => RelationalStore, id: (name: string) => string): void {
  const model = { model: 'conformance-model', dimension: 3 };

  void it('embedding cache: vectors come back exactly, only for their model and dimension', async () => {
    const s = store();
    const use = { docId: id('emb-exact'), contentSha256: 'v1' };
    const h = id('emb-exact-hash');
    const vector = [0.1 + 0.2, -1e-300, 123456.789012345];
    assert.equal((await s.lookupEmbeddings(use, model, [h])).size, 0);
    await s.putEmbeddings(use, model, [{ textSha256: h, embedding: vector }]);
    await s.putEmbeddings(use, model, [{ textSha256: h, embedding: [9, 9, 9] }]); // the first stays
    assert.deepEqual((await s.lookupEmbeddings(use, model, [h, h])).get(h), vector);
    assert.equal((await s.lookupEmbeddings(use, { ...model, dimension: 4 }, [h])).size, 0);
    assert.equal((await s.lookupEmbeddings(use, { ...model, model: 'other' }, [h])).size, 0);
    assert.equal((await s.tracesOf(use.docId)).embeddings, 1);
    assert.equal(await s.forgetEmbeddings(use.docId, null), 1);
    assert.equal((await s.tracesOf(use.docId)).embeddings, 0);
    assert.equal((await s.lookupEmbeddings(use, model, [h])).size, 0);
    await s.forgetEmbeddings(use.docId, null);
  });

  void it('embedding cache: forget never removes an entry another document or version still uses', async () => {
    const s = store();
    const [a, b] = [id('emb-a'), id('emb-b')];
    const [shared, onlyA, keptByV2] = [id('emb-shared'), id('emb-only-a'), id('emb-v2')];
    await s.putEmbeddings({ docId: a, contentSha256: 'v1' }, model, [
      { textSha256: shared, embedding: [1, 1, 1] },
      { textSha256: onlyA, embedding: [2, 2, 2] },
      { textSha256: keptByV2, embedding: [3, 3, 3] },
    ]);
    await s.lookupEmbeddings({ docId: b, contentSha256: 'w1' }, model, [shared]); // B uses the shared entry (a hit)
    await s.lookupEmbeddings({ docId: a, contentSha256: 'v2' }, model, [keptByV2]); // A's next version keeps one
    assert.equal(await s.forgetEmbeddings(a, 'v1'), 1); // only onlyA: shared (B) and keptByV2 (A v2) stay
    const left = await s.lookupEmbeddings({ docId: b, contentSha256: 'w1' }, model, [shared, onlyA, keptByV2]);
    assert.deepEqual([...left.keys()].sort(), [keptByV2, shared].sort());
    await s.forgetEmbeddings(b, null); // the lookup above recorded B's use of all three: forget it
    assert.equal(await s.forgetEmbeddings(a, null), 1); // keptByV2; shared went with B's use
    assert.equal((await s.lookupEmbeddings({ docId: a, contentSha256: 'v3' }, model, [shared, keptByV2])).size, 0);
    await s.forgetEmbeddings(a, null);
  });

  void it('embedding cache: two documents sharing an entry, forgotten at once, leave no entry behind', async () => {
    const s = store();
    for (let round = 0; round < 5; round++) {
      const [a, b, h] = [id(`emb-race-a${round}`), id(`emb-race-b${round}`), id(`emb-race-h${round}`)];
      await s.putEmbeddings({ docId: a, contentSha256: 'v' }, model, [{ textSha256: h, embedding: [1, 2, 3] }]);
      await s.putEmbeddings({ docId: b, contentSha256: 'v' }, model, [{ textSha256: h, embedding: [1, 2, 3] }]);
      const gone = await Promise.all([s.forgetEmbeddings(a, null), s.forgetEmbeddings(b, null)]);
      assert.equal(gone[0] + gone[1], 1, `round ${round}: exactly one forget removes the entry`);
      const probe = { docId: id(`emb-race-probe${round}`), contentSha256: 'v' };
      assert.equal((await s.lookupEmbeddings(probe, model, [h])).size, 0, `round ${round}: an entry outlived its last use`);
      await s.forgetEmbeddings(probe.docId, null);
    }
  });

  void it('embedding cache: a forget for a saga forgets only while that saga holds the document', async () => {
    const s = store();
    const docId = id('emb-held');
    const h = id('emb-held-hash');
    await s.putEmbeddings({ docId, contentSha256: 'v' }, model, [{ textSha256: h, embedding: [1, 2, 3] }]);
    assert.equal(await s.forgetEmbeddings(docId, null, { heldBy: 'saga-not-holding' }), 0);
    assert.equal((await s.tracesOf(docId)).embeddings, 1, 'a saga that does not hold the document forgot its uses');
    const holder = ctxFor('saga-emb-holder');
    await s.acquire(docId, holder);
    try {
      assert.equal(await s.forgetEmbeddings(docId, null, { heldBy: 'saga-not-holding' }), 0);
      assert.equal(await s.forgetEmbeddings(docId, null, { heldBy: holder.sagaId }), 1);
      assert.equal((await s.tracesOf(docId)).embeddings, 0);
    } finally {
      await s.release(docId, holder);
    }
  });
}
