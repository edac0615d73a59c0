// Conformance suite for CacheStore (Redis adapter and the SQLite cache stand-in).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../../src/stores/errors.js';
import type { CacheEntry, CacheStore } from '../../../src/stores/types.js';
import { cleanupPrefix, idsWithPrefix } from './derived.js';
import {
  HOSTILE_STRINGS,
  ctxFor,
  largeBody,
  runPrefix,
  sha256,
  interruptions,
  isRetryableStoreFailure,
  rejectionOf,
  onlyWhen,
} from './fixtures.js';
import { cacheBatchCases } from './batched-reads.js';
import { cacheGroupCommitCases } from './group-commit.js';
import type { StoreHarness } from './fixtures.js';

function entry(docId: string, body: string, extra: Partial<CacheEntry> = {}): CacheEntry {
  return { docId, title: `Title ${body.slice(0, 20)}`, contentSha256: sha256(body), chunkCount: 3, metadata: { k: 'v', n: 1 }, ...extra };
}

/** `fencing`: whether the adapter refuses stale fencing tokens. Default: yes, except for the
 * embedded stand-ins (labels `sqlite-*`), which serve one process and do not fence (docs/stores.md). */
export type CacheHarness = StoreHarness<CacheStore> & { fencing?: boolean };

/** A refusal for a stale token: STORE_FENCED, and the engine must not retry it. */
function isFenced(err: unknown): boolean {
  return isStoreError(err) && err.code === 'STORE_FENCED' && !err.retryable;
}

export function cacheConformance(harness: CacheHarness): void {
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

    cacheBatchCases(() => store, id);
    cacheGroupCommitCases(harness, () => store, id);

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
      assert.deepEqual(
        await idsWithPrefix(store, id('conc-')),
        entries.map((e) => e.docId),
      );
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

    {
      const fenced = onlyWhen(
        harness.fencing ?? !harness.label.startsWith('sqlite-'),
        `${harness.label} keeps no fencing tokens (a single-process embedded stand-in)`,
      );
      void it('fencing: a put with an older token of the same saga is refused and changes nothing', fenced, async () => {
        const saga = `${prefix}fence-a`;
        const newer = entry(id('fence-older'), 'written by token 2');
        const late = entry(id('fence-older'), 'late put of token 1');
        await store.put(newer, ctxFor(saga, 2));
        assert.ok(isFenced(await rejectionOf(store.put(late, ctxFor(saga, 1)))));
        assert.deepEqual(await store.get(newer.docId), newer);
        // A stale compensation is refused too: the newer owner's entry stays.
        assert.ok(isFenced(await rejectionOf(store.remove(newer.docId, newer.contentSha256, ctxFor(saga, 1)))));
        assert.ok(isFenced(await rejectionOf(store.remove(newer.docId, null, ctxFor(saga, 1)))));
        assert.deepEqual(await store.get(newer.docId), newer);
      });

      void it("fencing: after a compensation with token 2, the stalled owner's late put with token 1 is refused", fenced, async () => {
        const saga = `${prefix}fence-b`;
        const e = entry(id('fence-stalled'), 'the stalled owner started this');
        // The new owner compensates a put the stalled one started but had not sent yet.
        await store.remove(e.docId, e.contentSha256, ctxFor(saga, 2));
        assert.ok(isFenced(await rejectionOf(store.put(e, ctxFor(saga, 1)))));
        assert.equal(await store.get(e.docId), undefined);
        // The fence bookkeeping is not an entry: verify must not see an orphan here.
        assert.deepEqual(await idsWithPrefix(store, id('fence-stalled')), []);
      });

      void it(
        'fencing: other sagas are unaffected; the same token may repeat; removals without a context are not fenced',
        fenced,
        async () => {
          const docId = id('fence-other');
          const a = entry(docId, 'saga a at token 5');
          const b = entry(docId, 'saga b at token 1');
          await store.put(a, ctxFor(`${prefix}fence-c`, 5));
          await store.put(b, ctxFor(`${prefix}fence-d`, 1));
          assert.deepEqual(await store.get(docId), b);
          await store.put(b, ctxFor(`${prefix}fence-d`, 1)); // a retry of the same owner
          await store.remove(docId, b.contentSha256, ctxFor(`${prefix}fence-d`, 1));
          await store.remove(docId, b.contentSha256, ctxFor(`${prefix}fence-d`, 1));
          assert.equal(await store.get(docId), undefined);
          await store.put(b, ctxFor(`${prefix}fence-d`, 1));
          assert.deepEqual(await store.get(docId), b);
          await store.remove(docId, null); // operator cleanup: no token, no fence
          assert.equal(await store.get(docId), undefined);
        },
      );

      void it('fencing: ids containing the key separator do not share a fence', fenced, async () => {
        // Doc "x:y" of saga "z" and doc "x" of saga "y:z" would share a naive "<doc>:<saga>" key.
        await store.put(entry(id('fence-sep:y'), 'first'), ctxFor('z', 9));
        const other = entry(id('fence-sep'), 'second');
        await store.put(other, ctxFor('y:z', 1));
        assert.deepEqual(await store.get(other.docId), other);
      });
    }

    for (const cut of interruptions(harness)) {
      void it(cut.title, { skip: cut.skip }, async () => {
        const e = entry(id(cut.docName), 'cut in the middle');
        const err = await cut.run((s) => s.put(e, ctx));
        assert.ok(cut.accepts(err), String(err));
        assert.equal(await store.get(e.docId), undefined);
        await store.put(e, ctx);
        assert.deepEqual(await store.get(e.docId), e);
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
          const v = entry(id('unreachable'), 'nobody home');
          try {
            const err = await rejectionOf(s.put(v, ctx));
            assert.ok(isRetryableStoreFailure(err), String(err));
          } finally {
            await s.close().catch(() => undefined);
          }
        },
      );
    }
  });
}
