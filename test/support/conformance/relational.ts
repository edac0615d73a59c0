// Conformance suite for RelationalStore (PostgreSQL adapter and the PGlite stand-in).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../../src/stores/errors.js';
import type { DocumentRow, RelationalStore } from '../../../src/stores/types.js';
import {
  HOSTILE_STRINGS,
  ctxFor,
  largeBody,
  makeVersion,
  rejectionOf,
  runPrefix,
  interruptions,
  isRetryableStoreFailure,
  onlyWhen,
} from './fixtures.js';
import { relationalBatchCases } from './batched-reads.js';
import { relationalGroupCommitCases } from './group-commit.js';
import { relationalRegressionCases } from './reliability-regressions.js';
import { relationalEmbeddingCacheCases } from './embedding-cache.js';
import type { StoreHarness } from './fixtures.js';
import { relationalChunkingCases } from './chunkings.js';
import { relationalBusyFenceCases } from './busy-fence.js';

export function relationalConformance(harness: StoreHarness<RelationalStore>): void {
  void describe(`RelationalStore conformance: ${harness.label}`, () => {
    let store: RelationalStore;
    const prefix = runPrefix(harness.label);
    const id = (name: string): string => `${prefix}${name}`;
    const ctx = ctxFor('saga-conf');

    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      // Remove only this run's documents (ids share the run prefix).
      let cursor: string | null = prefix;
      for (;;) {
        const page: DocumentRow[] = (await store.listDocuments(cursor, 100)).filter((d) => d.id.startsWith(prefix));
        for (const d of page) {
          // Tests leave documents held by their sagas: give them back first (single-writer rule).
          const holder = await store.holderOf(d.id);
          if (holder !== undefined) await store.release(d.id, ctxFor(holder, Number.MAX_SAFE_INTEGER));
          // deleteDocument removes only a row its saga marked 'deleting' (a repeated delete pivot
          // must not remove a re-created document), so the cleanup marks it first.
          await store.markDeleting(d.id, ctxFor('cleanup', Number.MAX_SAFE_INTEGER));
          await store.deleteDocument(d.id, ctxFor('cleanup', Number.MAX_SAFE_INTEGER));
        }
        if (page.length < 100) break;
        cursor = page[page.length - 1]?.id ?? null;
      }
      assert.equal((await store.listDocuments(prefix, 10)).filter((d) => d.id.startsWith(prefix)).length, 0);
      await store.close();
    });

    relationalBatchCases(() => store, id);
    relationalGroupCommitCases(harness, () => store, id);
    relationalRegressionCases(() => store, id);
    relationalEmbeddingCacheCases(() => store, id);
    relationalChunkingCases(() => store, id);
    relationalBusyFenceCases(() => store, id);

    void it('health reports ok with a secret-free detail', async () => {
      const h = await store.health();
      assert.equal(h.ok, true, h.detail);
      assert.doesNotMatch(h.detail, /password|:[^@/]+@/i);
    });

    void it('writes a pending version, then commits it', async () => {
      const v = makeVersion({ docId: id('write'), body: 'alpha beta gamma delta' });
      await store.putPending(v, ctx);
      const pending = await store.getDocument(v.docId);
      assert.equal(pending?.ingestionStatus, 'pending');
      assert.equal(pending?.contentSha256, null);
      assert.deepEqual(
        (await store.getPendingVersions(v.docId)).map((p) => p.contentSha256),
        [v.contentSha256],
      );
      assert.deepEqual(
        await store.getChunks(v.docId, v.contentSha256),
        v.chunks.map((c) => ({ idx: c.idx, text: c.text })),
      );
      await store.commit(v.docId, v.contentSha256, ctx);
      const row = await store.getDocument(v.docId);
      assert.equal(row?.ingestionStatus, 'committed');
      assert.equal(row?.contentSha256, v.contentSha256);
      assert.equal(row?.title, v.title);
      assert.deepEqual(row?.metadata, v.metadata);
      assert.equal(row?.sagaId, ctx.sagaId);
      assert.deepEqual(await store.getPendingVersions(v.docId), []);
    });

    void it('repeating every write leaves the same state (idempotent)', async () => {
      const v = makeVersion({ docId: id('repeat'), body: 'the same content twice' });
      await store.putPending(v, ctx);
      await store.putPending(v, ctx);
      await store.commit(v.docId, v.contentSha256, ctx);
      const first = await store.getDocument(v.docId);
      await store.commit(v.docId, v.contentSha256, ctx);
      await store.putPending(v, ctx); // re-ingest of the committed version: no pending row
      const second = await store.getDocument(v.docId);
      assert.deepEqual({ ...second, updatedAt: null }, { ...first, updatedAt: null });
      assert.deepEqual(await store.getPendingVersions(v.docId), []);
      assert.equal((await store.getChunks(v.docId, v.contentSha256)).length, v.chunks.length);
    });

    void it('compensation of a first ingest leaves a failed row without chunks', async () => {
      const v = makeVersion({ docId: id('compensate'), body: 'to be discarded' });
      await store.putPending(v, ctx);
      await store.discardPending(v.docId, v.contentSha256, ctx);
      await store.discardPending(v.docId, v.contentSha256, ctx);
      assert.equal((await store.getDocument(v.docId))?.ingestionStatus, 'failed');
      assert.deepEqual(await store.getChunks(v.docId, v.contentSha256), []);
      assert.deepEqual(await store.getPendingVersions(v.docId), []);
      await rejectionOf(store.commit(v.docId, v.contentSha256, ctx)).then((err) => {
        assert.ok(isStoreError(err) && err.code === 'STORE_PERMANENT', String(err));
      });
    });

    void it('an update keeps the committed version visible; its compensation keeps it intact', async () => {
      const v1 = makeVersion({ docId: id('update'), body: 'version one', title: 'one' });
      const v2 = makeVersion({ docId: id('update'), body: 'version two!', title: 'two' });
      await store.putPending(v1, ctx);
      await store.commit(v1.docId, v1.contentSha256, ctx);
      await store.putPending(v2, ctx);
      const during = await store.getDocument(v1.docId);
      assert.equal(during?.ingestionStatus, 'committed');
      assert.equal(during?.contentSha256, v1.contentSha256);
      assert.equal(during?.title, 'one');
      await store.discardPending(v2.docId, v2.contentSha256, ctx);
      assert.equal((await store.getDocument(v1.docId))?.contentSha256, v1.contentSha256);
      assert.equal((await store.getChunks(v1.docId, v1.contentSha256)).length, v1.chunks.length);
      assert.deepEqual(await store.getChunks(v2.docId, v2.contentSha256), []);
      // The committed version's chunks survive a (wrong) discard or removal of that version.
      await store.discardPending(v1.docId, v1.contentSha256, ctx);
      await store.removeVersion(v1.docId, v1.contentSha256);
      assert.equal((await store.getChunks(v1.docId, v1.contentSha256)).length, v1.chunks.length);
      // A successful update, then removal of the superseded version.
      await store.putPending(v2, ctx);
      await store.commit(v2.docId, v2.contentSha256, ctx);
      assert.equal((await store.getDocument(v2.docId))?.title, 'two');
      await store.removeVersion(v1.docId, v1.contentSha256);
      assert.deepEqual(await store.getChunks(v1.docId, v1.contentSha256), []);
      assert.equal((await store.getChunks(v2.docId, v2.contentSha256)).length, v2.chunks.length);
    });

    void it('compensations and removals without a prior write are no-ops', async () => {
      const ghost = id('ghost');
      await store.discardPending(ghost, 'f'.repeat(64), ctx);
      await store.removeVersion(ghost, 'f'.repeat(64));
      await store.unmarkDeleting(ghost, ctx);
      await store.markDeleting(ghost, ctx);
      await store.deleteDocument(ghost, ctx);
      assert.equal(await store.getDocument(ghost), undefined);
    });

    void it('delete: markDeleting, unmarkDeleting, deleteDocument', async () => {
      const v = makeVersion({ docId: id('delete'), body: 'doomed' });
      await store.putPending(v, ctx);
      await store.commit(v.docId, v.contentSha256, ctx);
      await store.markDeleting(v.docId, ctx);
      assert.equal((await store.getDocument(v.docId))?.ingestionStatus, 'deleting');
      await store.unmarkDeleting(v.docId, ctx);
      assert.equal((await store.getDocument(v.docId))?.ingestionStatus, 'committed');
      await store.markDeleting(v.docId, ctx);
      await store.deleteDocument(v.docId, ctx);
      await store.deleteDocument(v.docId, ctx);
      assert.equal(await store.getDocument(v.docId), undefined);
      assert.deepEqual(await store.getChunks(v.docId, v.contentSha256), []);
    });

    void it('single writer: a document held by one saga refuses every other saga with STORE_BUSY until released', async () => {
      const v1 = makeVersion({ docId: id('held'), body: 'held by saga A', title: 'A' });
      const v2 = makeVersion({ docId: id('held'), body: 'wanted by saga B', title: 'B' });
      const a = ctxFor('saga-held-a');
      const b = ctxFor('saga-held-b');
      assert.deepEqual(await store.putPending(v1, a), { previousSha: null });
      assert.equal(await store.holderOf(v1.docId), 'saga-held-a');
      for (const attempt of [
        () => store.putPending(v2, b),
        () => store.acquire(v1.docId, b),
        () => store.markDeleting(v1.docId, b),
        () => store.commit(v1.docId, v1.contentSha256, b),
      ]) {
        const err = await rejectionOf(attempt());
        assert.ok(isStoreError(err) && err.code === 'STORE_BUSY' && err.retryable, String(err));
        assert.match(String(err), /saga-held-a/);
      }
      // deleteDocument removes only a row its own saga marked: B marked nothing, so it changes
      // nothing and takes nothing (a delete's repeat after it applied must not wait for a holder).
      await store.deleteDocument(v1.docId, b);
      assert.equal(await store.holderOf(v1.docId), 'saga-held-a');
      assert.deepEqual(await store.getChunks(v2.docId, v2.contentSha256), [], 'the refused saga wrote nothing');
      assert.equal((await store.getDocument(v1.docId))?.ingestionStatus, 'pending');
      await store.commit(v1.docId, v1.contentSha256, a);
      await store.finishVersion(v1.docId, null, a);
      assert.equal(await store.holderOf(v1.docId), undefined);
      // Free again: B takes it, sees A's committed version, and its own release frees it.
      assert.equal((await store.acquire(v1.docId, b))?.contentSha256, v1.contentSha256);
      assert.deepEqual(await store.putPending(v2, b), { previousSha: v1.contentSha256 });
      await store.commit(v2.docId, v2.contentSha256, b, v1.contentSha256);
      await store.finishVersion(v2.docId, v1.contentSha256, b);
      assert.equal(await store.holderOf(v2.docId), undefined);
      assert.deepEqual(await store.getChunks(v1.docId, v1.contentSha256), [], 'finishVersion removed the replaced version');
      assert.equal((await store.getChunks(v2.docId, v2.contentSha256)).length, v2.chunks.length);
      // The holder's compensations and the delete pivot release too.
      await store.putPending(v1, a);
      await store.discardPending(v1.docId, v1.contentSha256, a, { release: true });
      assert.equal(await store.holderOf(v1.docId), undefined);
      assert.equal((await store.markDeleting(v1.docId, b))?.contentSha256, v2.contentSha256);
      await store.unmarkDeleting(v1.docId, b);
      assert.equal(await store.holderOf(v1.docId), undefined);
      await store.markDeleting(v1.docId, a);
      await store.deleteDocument(v1.docId, a);
      assert.equal(await store.holderOf(v1.docId), undefined);
      assert.equal(await store.getDocument(v1.docId), undefined);
    });

    void it('two sagas racing for one free document: exactly one takes it', async () => {
      const docId = id('race');
      const sagas = Array.from({ length: 8 }, (_, i) => ctxFor(`saga-race-${i}`));
      const results = await Promise.allSettled(sagas.map((c, i) => store.putPending(makeVersion({ docId, body: `racer ${i}` }), c)));
      const won = results.filter((r) => r.status === 'fulfilled').length;
      assert.equal(won, 1, results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')).join('\n'));
      for (const r of results)
        if (r.status === 'rejected') assert.ok(isStoreError(r.reason) && r.reason.code === 'STORE_BUSY', String(r.reason));
      assert.equal((await store.getPendingVersions(docId)).length, 1);
    });

    void it('whileFree runs only on a free document and keeps sagas out until it returns', async () => {
      const v = makeVersion({ docId: id('sweep'), body: 'swept while free' });
      const a = ctxFor('saga-sweep-a');
      await store.putPending(v, a);
      assert.deepEqual(await store.whileFree(v.docId, async () => 'ran'), { free: false, holder: 'saga-sweep-a' });
      await store.commit(v.docId, v.contentSha256, a);
      await store.finishVersion(v.docId, null, a);
      const order: string[] = [];
      let taken: Promise<unknown> | undefined;
      const r = await store.whileFree(v.docId, async (row) => {
        assert.equal(row?.contentSha256, v.contentSha256);
        taken = store.acquire(v.docId, ctxFor('saga-sweep-b')).then(() => order.push('saga took it'));
        await new Promise((res) => setTimeout(res, 150));
        order.push('sweep done');
        return 7;
      });
      await taken;
      assert.deepEqual(r, { free: true, value: 7 });
      assert.deepEqual(order, ['sweep done', 'saga took it']);
      assert.equal(await store.holderOf(v.docId), 'saga-sweep-b', 'the sweep leaves no lock of its own');
    });

    void it('pendingStats counts documents with a version in flight', async () => {
      const before = await store.pendingStats();
      const v = makeVersion({ docId: id('stats'), body: 'pending for stats' });
      await store.putPending(v, ctxFor('saga-stats'));
      const during = await store.pendingStats();
      assert.equal(during.pending, before.pending + 1);
      assert.ok(during.oldestPendingAt instanceof Date);
      await store.discardPending(v.docId, v.contentSha256, ctxFor('saga-stats'), { release: true });
      assert.equal((await store.pendingStats()).pending, before.pending);
    });

    void it('rejects a stale fencing token of the same saga with STORE_FENCED', async () => {
      const v = makeVersion({ docId: id('fenced'), body: 'fenced content' });
      await store.putPending(v, ctxFor('saga-f', 5));
      const err = await rejectionOf(store.commit(v.docId, v.contentSha256, ctxFor('saga-f', 4)));
      assert.ok(isStoreError(err) && err.code === 'STORE_FENCED' && !err.retryable, String(err));
      assert.equal((await store.getDocument(v.docId))?.ingestionStatus, 'pending');
      await store.commit(v.docId, v.contentSha256, ctxFor('saga-f', 6));
      assert.equal((await store.getDocument(v.docId))?.ingestionStatus, 'committed');
    });

    void it('20 concurrent writes of different documents all land', async () => {
      const versions = Array.from({ length: 20 }, (_, i) =>
        makeVersion({ docId: id(`conc-${String(i).padStart(2, '0')}`), body: `concurrent ${i}` }),
      );
      await Promise.all(
        versions.map(async (v) => {
          await store.putPending(v, ctx);
          await store.commit(v.docId, v.contentSha256, ctx);
        }),
      );
      const listed = (await store.listDocuments(id('conc-'), 50)).filter((d) => d.id.startsWith(id('conc-')));
      assert.deepEqual(
        listed.map((d) => d.id),
        versions.map((v) => v.docId),
      );
      assert.ok(listed.every((d) => d.ingestionStatus === 'committed'));
    });

    void it('stores hostile strings verbatim', async () => {
      for (const [i, s] of HOSTILE_STRINGS.entries()) {
        const v = makeVersion({ docId: id(`hostile-${i}-${s}`), body: `${s} ${s}`, title: s, metadata: { s, nested: [s] }, chunkCount: 2 });
        await store.putPending(v, ctxFor(s));
        await store.commit(v.docId, v.contentSha256, ctxFor(s));
        const row = await store.getDocument(v.docId);
        assert.equal(row?.id, v.docId);
        assert.equal(row?.title, s);
        assert.equal(row?.sagaId, s);
        assert.deepEqual(row?.metadata, { s, nested: [s] });
        assert.deepEqual(
          await store.getChunks(v.docId, v.contentSha256),
          v.chunks.map((c) => ({ idx: c.idx, text: c.text })),
        );
      }
      assert.ok((await store.listDocuments(null, 1)).length >= 1, 'documents table still exists');
    });

    void it('stores a 1 MB document', async () => {
      const v = makeVersion({ docId: id('large'), body: largeBody(1_000_000), chunkCount: 250 });
      await store.putPending(v, ctx);
      await store.commit(v.docId, v.contentSha256, ctx);
      const chunks = await store.getChunks(v.docId, v.contentSha256);
      assert.equal(chunks.length, 250);
      assert.equal(chunks.map((c) => c.text).join(''), v.chunks.map((c) => c.text).join(''));
    });

    for (const cut of interruptions(harness)) {
      void it(cut.title, { skip: cut.skip }, async () => {
        const v = makeVersion({ docId: id(cut.docName), body: 'cut in the middle', chunkCount: 4 });
        const err = await cut.run(async (s) => {
          await s.putPending(v, ctx);
        });
        assert.ok(cut.accepts(err), String(err));
        assert.equal(await store.getDocument(v.docId), undefined);
        assert.deepEqual(await store.getChunks(v.docId, v.contentSha256), []);
        await store.putPending(v, ctx); // the retry succeeds
        assert.equal((await store.getChunks(v.docId, v.contentSha256)).length, 4);
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
            const err = await rejectionOf(s.putPending(v, ctx));
            assert.ok(isRetryableStoreFailure(err), String(err));
          } finally {
            await s.close().catch(() => undefined);
          }
        },
      );
    }
  });
}
