// Conformance suite for CacheStore (Redis adapter and the SQLite cache stand-in).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheEntry, CacheStore } from '../../../src/stores/types.js';
import { cleanupPrefix, idsWithPrefix } from './derived.js';
import { HOSTILE_STRINGS, ctxFor, largeBody, runPrefix, sha256, interruptions, isRetryableStoreFailure, rejectionOf } from './fixtures.js';
import type { StoreHarness } from './fixtures.js';

function entry(docId: string, body: string, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { docId, title: `Title ${body.slice(0, 20)}`, contentSha256: sha256(body), chunkCount: 3, metadata: { k: 'v', n: 1 }, ...extra };
}

export function cacheConformance(harness: StoreHarness<CacheStore>): void {
  void describe(`CacheStore conformance: ${harness.label}`, () => {
    let store: CacheStore;
    const prefix = runPrefix(harness.label);
    const id = (name: string): string => `${prefix}${name}`;
    const ctx = ctxFor('saga-conf');

    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      assert.deepEqual(await cleanupPrefix(store, prefix, (d) => store.remove(d, null)), []);
      await store.close();
    });

    void it('health reports ok', async () => {
      const h = await store.health();
      assert.equal(h.ok, true, h.detail);
    });

    void it('puts and gets an entry; repeating the put changes nothing', async () => {
      const e = entry(id('write'), 'alpha');
      await store.put(e, ctx);
      await store.put(e, ctx);
      assert.deepEqual(await store.get(e.docId), e);
      assert.deepEqual(await idsWithPrefix(store, id('write')), [e.docId]);
    });

    void it('remove with a sha removes only that version; null removes anything', async () => {
      const older = entry(id('versions'), 'v1');
      const newer = entry(id('versions'), 'v2');
      await store.put(newer, ctx);
      await store.remove(older.docId, older.contentSha256, ctx); // compensation of the older write
      assert.deepEqual(await store.get(newer.docId), newer);
      await store.remove(newer.docId, newer.contentSha256, ctx);
      assert.equal(await store.get(newer.docId), undefined);
      await store.put(newer, ctx);
      await store.remove(newer.docId, null, ctx);
      assert.equal(await store.get(newer.docId), undefined);
    });

    void it('removals without a prior write are no-ops', async () => {
      await store.remove(id('ghost'), 'f'.repeat(64), ctx);
      await store.remove(id('ghost'), null, ctx);
      assert.equal(await store.get(id('ghost')), undefined);
    });

    void it('20 concurrent puts of different documents all land', async () => {
      const entries = Array.from({ length: 20 }, (_, i) => entry(id(`conc-${String(i).padStart(2, '0')}`), `concurrent ${i}`));
      await Promise.all(entries.map((e) => store.put(e, ctx)));
      assert.deepEqual(await idsWithPrefix(store, id('conc-')), entries.map((e) => e.docId));
    });

    void it('stores hostile strings verbatim', async () => {
      for (const [i, s] of HOSTILE_STRINGS.entries()) {
        const e = entry(id(`hostile-${i}-${s}`), s, { title: s, metadata: { s } });
        await store.put(e, ctxFor(s));
        assert.deepEqual(await store.get(e.docId), e);
      }
      assert.equal((await idsWithPrefix(store, id('hostile-'))).length, HOSTILE_STRINGS.length);
    });

    void it('stores a 1 MB entry', async () => {
      const body = largeBody(1_000_000);
      const e = entry(id('large'), body, { metadata: { body } });
      await store.put(e, ctx);
      assert.deepEqual(await store.get(e.docId), e);
    });

    for (const cut of interruptions(harness)) {
      void it(cut.title, async () => {
        const e = entry(id(cut.docName), 'cut in the middle');
        const err = await cut.run((s) => s.put(e, ctx));
        assert.ok(cut.accepts(err), String(err));
        assert.equal(await store.get(e.docId), undefined);
        await store.put(e, ctx);
        assert.deepEqual(await store.get(e.docId), e);
      });
    }

    if (harness.unreachable) {
      const unreachable = harness.unreachable;
      void it('a server that is down yields a retryable error, not a hang', async () => {
        const s = unreachable();
        const v = entry(id('unreachable'), 'nobody home');
        try {
          const err = await rejectionOf(s.put(v, ctx));
          assert.ok(isRetryableStoreFailure(err), String(err));
        } finally {
          await s.close().catch(() => undefined);
        }
      });
    }
  });
}
