// Conformance suite for GraphStore (Neo4j adapter and the SQLite graph stand-in).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphStore } from '../../../src/stores/types.js';
import { cleanupPrefix, idsWithPrefix } from './derived.js';
import { HOSTILE_STRINGS, ctxFor, largeBody, makeVersion, runPrefix, interruptions, isRetryableStoreFailure, rejectionOf } from './fixtures.js';
import type { StoreHarness } from './fixtures.js';

export function graphConformance(harness: StoreHarness<GraphStore>): void {
  void describe(`GraphStore conformance: ${harness.label}`, () => {
    let store: GraphStore;
    const prefix = runPrefix(harness.label);
    const id = (name: string): string => `${prefix}${name}`;
    const ctx = ctxFor('saga-conf');

    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      assert.deepEqual(await cleanupPrefix(store, prefix, (d) => store.removeDocument(d)), []);
      await store.close();
    });

    void it('health reports ok', async () => {
      const h = await store.health();
      assert.equal(h.ok, true, h.detail);
    });

    void it('writes a version with its chunks and entities', async () => {
      const v = makeVersion({ docId: id('write'), body: 'alpha beta gamma', chunkCount: 3 });
      await store.writeVersion(v, ctx);
      assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 3 }]);
      assert.deepEqual(await store.entities(v.docId, v.contentSha256), ['Entity 0', 'Entity 1', 'Topic 0', 'Topic 1', 'Topic 2']);
      assert.deepEqual(await idsWithPrefix(store, id('write')), [v.docId]);
    });

    void it('repeating a write leaves the same state (idempotent)', async () => {
      const v = makeVersion({ docId: id('repeat'), body: 'same same', chunkCount: 2 });
      await store.writeVersion(v, ctx);
      await store.writeVersion(v, ctx);
      assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 2 }]);
      assert.deepEqual(await store.entities(v.docId, v.contentSha256), ['Entity 0', 'Entity 1', 'Topic 0', 'Topic 1']);
    });

    void it('compensation removes the version and the empty document, keeping shared entities', async () => {
      const shared = `${prefix}shared entity`;
      const keep = makeVersion({ docId: id('comp-keep'), body: 'keeper', chunkCount: 1, entities: () => [shared] });
      const v = makeVersion({ docId: id('comp'), body: 'to remove', chunkCount: 2, entities: () => [shared, `${prefix}only here`] });
      await store.writeVersion(keep, ctx);
      await store.writeVersion(v, ctx);
      await store.removeVersion(v.docId, v.contentSha256, ctx);
      await store.removeVersion(v.docId, v.contentSha256, ctx);
      assert.deepEqual(await store.listVersions(v.docId), []);
      assert.deepEqual(await idsWithPrefix(store, id('comp-')), [keep.docId]);
      assert.deepEqual(await store.entities(keep.docId, keep.contentSha256), [shared]);
    });

    void it('removals without a prior write are no-ops', async () => {
      await store.removeVersion(id('ghost'), 'f'.repeat(64), ctx);
      await store.removeDocument(id('ghost'), ctx);
      assert.deepEqual(await store.listVersions(id('ghost')), []);
    });

    void it('two versions side by side; removing one keeps the other', async () => {
      const v1 = makeVersion({ docId: id('versions'), body: 'one', chunkCount: 2 });
      const v2 = makeVersion({ docId: id('versions'), body: 'two!', chunkCount: 3 });
      await store.writeVersion(v1, ctx);
      await store.writeVersion(v2, ctx);
      assert.equal((await store.listVersions(v1.docId)).length, 2);
      await store.removeVersion(v1.docId, v1.contentSha256, ctx);
      assert.deepEqual(await store.listVersions(v1.docId), [{ docId: v1.docId, contentSha256: v2.contentSha256, chunkCount: 3 }]);
      await store.removeDocument(v1.docId, ctx);
      assert.deepEqual(await store.listVersions(v1.docId), []);
      assert.deepEqual(await idsWithPrefix(store, id('versions')), []);
    });

    void it('20 concurrent writes of different documents all land', async () => {
      const versions = Array.from({ length: 20 }, (_, i) => makeVersion({ docId: id(`conc-${String(i).padStart(2, '0')}`), body: `concurrent ${i}`, chunkCount: 2 }));
      await Promise.all(versions.map((v) => store.writeVersion(v, ctx)));
      assert.deepEqual(await idsWithPrefix(store, id('conc-')), versions.map((v) => v.docId));
      for (const v of versions) assert.equal((await store.listVersions(v.docId))[0]?.chunkCount, 2);
    });

    void it('stores hostile strings verbatim', async () => {
      for (const [i, s] of HOSTILE_STRINGS.entries()) {
        const v = makeVersion({ docId: id(`hostile-${i}-${s}`), body: s, chunkCount: 1, entities: () => [`${prefix}${s}`] });
        await store.writeVersion(v, ctxFor(s));
        assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 1 }]);
        assert.deepEqual(await store.entities(v.docId, v.contentSha256), [`${prefix}${s}`]);
      }
      assert.equal((await idsWithPrefix(store, id('hostile-'))).length, HOSTILE_STRINGS.length);
    });

    void it('stores a 1 MB document', async () => {
      const v = makeVersion({ docId: id('large'), body: largeBody(1_000_000), chunkCount: 250 });
      await store.writeVersion(v, ctx);
      assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 250 }]);
    });

    for (const cut of interruptions(harness)) {
      void it(cut.title, async () => {
        const v = makeVersion({ docId: id(cut.docName), body: 'cut in the middle', chunkCount: 4 });
        const err = await cut.run((s) => s.writeVersion(v, ctx));
        assert.ok(cut.accepts(err), String(err));
        assert.deepEqual(await store.listVersions(v.docId), []);
        assert.deepEqual(await idsWithPrefix(store, v.docId), []);
        await store.writeVersion(v, ctx);
        assert.equal((await store.listVersions(v.docId))[0]?.chunkCount, 4);
      });
    }

    if (harness.unreachable) {
      const unreachable = harness.unreachable;
      void it('a server that is down yields a retryable error, not a hang', async () => {
        const s = unreachable();
        const v = makeVersion({ docId: id('unreachable'), body: 'nobody home' });
        try {
          const err = await rejectionOf(s.writeVersion(v, ctx));
          assert.ok(isRetryableStoreFailure(err), String(err));
        } finally {
          await s.close().catch(() => undefined);
        }
      });
    }
  });
}
