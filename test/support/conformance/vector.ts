// Conformance suite for VectorStore (Qdrant adapter against the Qdrant contract stub, and the
// SQLite vector stand-in).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../../src/stores/errors.js';
import type { VectorStore } from '../../../src/stores/types.js';
import { cleanupPrefix, idsWithPrefix } from './derived.js';
import {
  HOSTILE_STRINGS,
  ctxFor,
  embeddingFor,
  largeBody,
  makeVersion,
  rejectionOf,
  runPrefix,
  interruptions,
  isRetryableStoreFailure,
  onlyWhen,
} from './fixtures.js';
import { derivedBatchCases } from './batched-reads.js';
import { derivedGroupCommitCases } from './group-commit.js';
import type { StoreHarness } from './fixtures.js';

export function vectorConformance(harness: StoreHarness<VectorStore>): void {
  void describe(`VectorStore conformance: ${harness.label}`, () => {
    let store: VectorStore;
    const prefix = runPrefix(harness.label);
    const id = (name: string): string => `${prefix}${name}`;
    const ctx = ctxFor('saga-conf');
    const version = (docId: string, body: string, chunkCount = 3): ReturnType<typeof makeVersion> =>
      makeVersion({ docId, body, chunkCount, dimension: store.dimension });

    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      assert.deepEqual(await cleanupPrefix(store, prefix, (d) => store.removeDocument(d)), []);
      await store.close();
    });

    derivedBatchCases(
      () => store,
      id,
      () => store.dimension,
    );
    derivedGroupCommitCases(harness, () => store, id, { fencing: false, dimension: () => store.dimension });

    void it('health reports ok', async () => {
      const h = await store.health();
      assert.equal(h.ok, true, h.detail);
    });

    void it('upserts a version and finds each chunk by its own embedding', async () => {
      const v = version(id('write'), 'alpha beta gamma');
      await store.writeVersion(v, ctx);
      assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 3 }]);
      for (const c of v.chunks) {
        const hits = await store.search(c.embedding, 50);
        const top = hits.find((h) => h.docId === v.docId);
        assert.deepEqual(top && { idx: top.idx, sha: top.contentSha256 }, { idx: c.idx, sha: v.contentSha256 });
        assert.ok(top && top.score > 0.999, `cosine of a vector with itself is 1, got ${top?.score}`);
      }
    });

    void it('repeating an upsert leaves the same state (deterministic point ids)', async () => {
      const v = version(id('repeat'), 'same same', 2);
      await store.writeVersion(v, ctx);
      await store.writeVersion(v, ctx);
      assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 2 }]);
    });

    void it('compensation removes only that version', async () => {
      const v1 = version(id('comp'), 'one');
      const v2 = version(id('comp'), 'two!', 2);
      await store.writeVersion(v1, ctx);
      await store.writeVersion(v2, ctx);
      await store.removeVersion(v2.docId, v2.contentSha256, ctx);
      await store.removeVersion(v2.docId, v2.contentSha256, ctx);
      assert.deepEqual(await store.listVersions(v1.docId), [{ docId: v1.docId, contentSha256: v1.contentSha256, chunkCount: 3 }]);
      await store.removeDocument(v1.docId, ctx);
      assert.deepEqual(await store.listVersions(v1.docId), []);
      assert.deepEqual(await idsWithPrefix(store, id('comp')), []);
    });

    void it('removals without a prior write are no-ops', async () => {
      await store.removeVersion(id('ghost'), 'f'.repeat(64), ctx);
      await store.removeDocument(id('ghost'), ctx);
      assert.deepEqual(await store.listVersions(id('ghost')), []);
    });

    void it('rejects a vector of the wrong dimension as permanent', async () => {
      const v = version(id('wrong-dim'), 'bad');
      const bad = { ...v, chunks: v.chunks.map((c) => ({ ...c, embedding: [...c.embedding, 1] })) };
      const err = await rejectionOf(store.writeVersion(bad, ctx));
      assert.ok(isStoreError(err) && err.code === 'STORE_PERMANENT', String(err));
    });

    void it('20 concurrent upserts of different documents all land', async () => {
      const versions = Array.from({ length: 20 }, (_, i) => version(id(`conc-${String(i).padStart(2, '0')}`), `concurrent ${i}`, 2));
      await Promise.all(versions.map((v) => store.writeVersion(v, ctx)));
      assert.deepEqual(
        await idsWithPrefix(store, id('conc-')),
        versions.map((v) => v.docId),
      );
    });

    void it('stores hostile strings verbatim', async () => {
      for (const [i, s] of HOSTILE_STRINGS.entries()) {
        const v = version(id(`hostile-${i}-${s}`), s, 1);
        await store.writeVersion(v, ctxFor(s));
        assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 1 }]);
      }
      assert.equal((await idsWithPrefix(store, id('hostile-'))).length, HOSTILE_STRINGS.length);
    });

    void it('stores a 1 MB document', async () => {
      const v = makeVersion({ docId: id('large'), body: largeBody(1_000_000), chunkCount: 250, dimension: store.dimension });
      await store.writeVersion(v, ctx);
      assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 250 }]);
      const probe = embeddingFor(999, store.dimension);
      assert.ok((await store.search(probe, 5)).length === 5);
    });

    for (const cut of interruptions(harness)) {
      void it(cut.title, { skip: cut.skip }, async () => {
        const v = version(id(cut.docName), 'cut in the middle', 4);
        const err = await cut.run((s) => s.writeVersion(v, ctx));
        assert.ok(cut.accepts(err), String(err));
        assert.deepEqual(await store.listVersions(v.docId), []);
        await store.writeVersion(v, ctx);
        assert.equal((await store.listVersions(v.docId))[0]?.chunkCount, 4);
      });
    }

    {
      const unreachable = harness.unreachable;
      void it(
        'a server that is down yields a retryable error, not a hang',
        onlyWhen(unreachable, `${harness.label} is in-process: there is no server to be down`),
        async () => {
          if (!unreachable) return;
          const s = unreachable();
          const v = version(id('unreachable'), 'nobody home');
          try {
            const err = await rejectionOf(s.writeVersion(v, ctx));
            assert.ok(isRetryableStoreFailure(err), String(err));
          } finally {
            await s.close().catch(() => undefined);
          }
        },
      );
    }
  });
}
