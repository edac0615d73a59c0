// Conformance suite for GraphStore (Neo4j adapter and the SQLite graph stand-in).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../../src/stores/errors.js';
import type { GraphStore } from '../../../src/stores/types.js';
import { cleanupPrefix, idsWithPrefix } from './derived.js';
import {
  HOSTILE_STRINGS,
  ctxFor,
  largeBody,
  makeVersion,
  runPrefix,
  interruptions,
  isRetryableStoreFailure,
  rejectionOf,
  onlyWhen,
} from './fixtures.js';
import { derivedBatchCases } from './batched-reads.js';
import { derivedGroupCommitCases } from './group-commit.js';
import type { StoreHarness } from './fixtures.js';
import { graphChunkingCases } from './chunkings.js';

/** `fencing`: whether the adapter refuses stale fencing tokens. Default: yes, except for the
 * embedded stand-ins (labels `sqlite-*`), which serve one process and do not fence (docs/stores.md). */
export type GraphHarness = StoreHarness<GraphStore> & { fencing?: boolean };

/** A refusal for a stale token: STORE_FENCED, and the engine must not retry it. */
function isFenced(err: unknown): boolean {
  return isStoreError(err) && err.code === 'STORE_FENCED' && !err.retryable;
}

export function graphConformance(harness: GraphHarness): void {
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

    derivedBatchCases(
      () => store,
      id,
      () => 8,
    );
    graphChunkingCases(() => store, id);
    derivedGroupCommitCases(harness, () => store, id, {
      fencing: harness.fencing ?? !harness.label.startsWith('sqlite-'),
      dimension: () => 8,
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
      const versions = Array.from({ length: 20 }, (_, i) =>
        makeVersion({ docId: id(`conc-${String(i).padStart(2, '0')}`), body: `concurrent ${i}`, chunkCount: 2 }),
      );
      await Promise.all(versions.map((v) => store.writeVersion(v, ctx)));
      assert.deepEqual(
        await idsWithPrefix(store, id('conc-')),
        versions.map((v) => v.docId),
      );
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

    {
      const fenced = onlyWhen(
        harness.fencing ?? !harness.label.startsWith('sqlite-'),
        `${harness.label} keeps no fencing tokens (a single-process embedded stand-in)`,
      );
      void it('fencing: a write with an older token of the same saga is refused and changes nothing', fenced, async () => {
        const saga = `${prefix}fence-a`;
        const v2 = makeVersion({
          docId: id('fence-older'),
          body: 'written by token 2',
          chunkCount: 2,
          entities: () => [`${prefix}by two`],
        });
        const v1 = makeVersion({
          docId: id('fence-older'),
          body: 'late write of token 1',
          chunkCount: 3,
          entities: () => [`${prefix}by one`],
        });
        await store.writeVersion(v2, ctxFor(saga, 2));
        const err = await rejectionOf(store.writeVersion(v1, ctxFor(saga, 1)));
        assert.ok(isFenced(err), String(err));
        assert.deepEqual(await store.listVersions(v2.docId), [{ docId: v2.docId, contentSha256: v2.contentSha256, chunkCount: 2 }]);
        assert.deepEqual(await store.entities(v1.docId, v1.contentSha256), []);
        // A stale compensation is refused too: the newer owner's data stays.
        assert.ok(isFenced(await rejectionOf(store.removeVersion(v2.docId, v2.contentSha256, ctxFor(saga, 1)))));
        assert.ok(isFenced(await rejectionOf(store.removeDocument(v2.docId, ctxFor(saga, 1)))));
        assert.equal((await store.listVersions(v2.docId))[0]?.chunkCount, 2);
      });

      void it("fencing: after a compensation with token 2, the stalled owner's late write with token 1 is refused", fenced, async () => {
        const saga = `${prefix}fence-b`;
        const v = makeVersion({ docId: id('fence-stalled'), body: 'the stalled owner started this', chunkCount: 2 });
        // The new owner compensates a step the stalled one started but had not written yet.
        await store.removeVersion(v.docId, v.contentSha256, ctxFor(saga, 2));
        assert.ok(isFenced(await rejectionOf(store.writeVersion(v, ctxFor(saga, 1)))));
        assert.deepEqual(await store.listVersions(v.docId), []);
        // The fence bookkeeping is not a document: verify must not see an orphan here.
        assert.deepEqual(await idsWithPrefix(store, id('fence-stalled')), []);
        // The same after a whole-document compensation.
        const w = makeVersion({ docId: id('fence-stalled-doc'), body: 'stalled delete case' });
        await store.removeDocument(w.docId, ctxFor(saga, 2));
        assert.ok(isFenced(await rejectionOf(store.writeVersion(w, ctxFor(saga, 1)))));
        assert.deepEqual(await idsWithPrefix(store, id('fence-stalled')), []);
      });

      void it(
        'fencing: other sagas are unaffected; the same token may repeat; removals without a context are not fenced',
        fenced,
        async () => {
          const docId = id('fence-other');
          const a = makeVersion({ docId, body: 'saga a at token 5', chunkCount: 1 });
          const b = makeVersion({ docId, body: 'saga b at token 1', chunkCount: 2 });
          await store.writeVersion(a, ctxFor(`${prefix}fence-c`, 5));
          await store.writeVersion(b, ctxFor(`${prefix}fence-d`, 1));
          assert.equal((await store.listVersions(docId)).length, 2);
          await store.writeVersion(b, ctxFor(`${prefix}fence-d`, 1)); // a retry of the same owner
          await store.removeVersion(docId, b.contentSha256, ctxFor(`${prefix}fence-d`, 1));
          await store.removeVersion(docId, b.contentSha256, ctxFor(`${prefix}fence-d`, 1));
          await store.writeVersion(b, ctxFor(`${prefix}fence-d`, 1));
          assert.equal((await store.listVersions(docId)).length, 2);
          await store.removeDocument(docId); // operator cleanup: no token, no fence
          assert.deepEqual(await store.listVersions(docId), []);
        },
      );

      void it('fencing: concurrent owners of one saga leave the fence at the highest token', fenced, async () => {
        const saga = `${prefix}fence-e`;
        const docId = id('fence-race');
        const tokens = [1, 2, 3, 4, 5, 6];
        const outcomes = await Promise.allSettled(
          tokens.map((t) => store.writeVersion(makeVersion({ docId, body: `owner ${t}`, chunkCount: 2 }), ctxFor(saga, t))),
        );
        for (const o of outcomes) if (o.status === 'rejected') assert.ok(isFenced(o.reason), String(o.reason));
        assert.equal(outcomes.at(-1)?.status, 'fulfilled', 'the highest token is never refused');
        // Had two owners read the fence before either raised it, token 5 could have lowered it.
        assert.ok(isFenced(await rejectionOf(store.writeVersion(makeVersion({ docId, body: 'late 5' }), ctxFor(saga, 5)))));
        await store.writeVersion(makeVersion({ docId, body: 'owner 6', chunkCount: 2 }), ctxFor(saga, 6));
      });
    }

    for (const cut of interruptions(harness)) {
      void it(cut.title, { skip: cut.skip }, async () => {
        const v = makeVersion({ docId: id(cut.docName), body: 'cut in the middle', chunkCount: 4 });
        const err = await cut.run((s) => s.writeVersion(v, ctx));
        assert.ok(cut.accepts(err), String(err));
        assert.deepEqual(await store.listVersions(v.docId), []);
        assert.deepEqual(await idsWithPrefix(store, v.docId), []);
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
          const v = makeVersion({ docId: id('unreachable'), body: 'nobody home' });
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
