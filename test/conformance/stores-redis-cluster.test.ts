// The Redis adapter against the cache conformance suite on the 6-node Redis Cluster of
// `bash scripts/services.sh up` (REDIS_URL=redis+cluster://...), plus what only a cluster shows:
// ids whose braces would break a naive hash tag, batches and scans spanning every master.
// The stall/drop cases of stores-redis.test.ts cut a TCP proxy; a cluster client learns the real
// node addresses from CLUSTER SLOTS and would bypass it, so they do not run here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { createRedisStore, docKey, fenceKey } from '../../src/stores/redis/cache-store.js';
import type { CacheEntry, CacheStore } from '../../src/stores/types.js';
import { ctxFor, rejectionOf, runPrefix } from '../support/conformance/fixtures.js';
import { testRedisClusterUrl } from '../support/services.js';
import { cacheConformance } from '../support/store-conformance.js';

const url = testRedisClusterUrl();

cacheConformance({
  label: 'redis-cluster',
  async open(): Promise<CacheStore> {
    const store = createRedisStore({ url, timeoutMs: 10_000 });
    await store.connect();
    return store;
  },
  unreachable: () => createRedisStore({ url: 'redis+cluster://127.0.0.1:1,127.0.0.1:2', timeoutMs: 3_000 }),
});

const entry = (docId: string, body: string): CacheEntry => ({ docId, title: body, contentSha256: body, chunkCount: 1, metadata: {} });

void describe('Redis Cluster specifics', () => {
  const prefix = runPrefix('rc');
  // A leading '}' gives Redis an empty `{}` tag under a naive `apex:{<id>}` layout (the whole key
  // is hashed, so entry and fence land in different slots: CROSSSLOT); '{' and '}' inside too.
  const braced = ['}lead', '{wrapped}', 'a}b{c', '{', '}', '}{'];

  void it('every key of a document sits in one slot, whatever braces the id holds', () => {
    for (const id of braced.map((b) => b + prefix).concat(braced)) {
      assert.equal(calculateSlot(fenceKey(id, 'saga-1')), calculateSlot(docKey(id)), id);
    }
  });

  void it('fenced put, stale refusal and fenced remove work for braced ids on the cluster', async () => {
    const store = createRedisStore({ url, timeoutMs: 10_000 });
    await store.connect();
    try {
      for (const b of braced) {
        const id = b + prefix;
        await store.put(entry(id, 'v2'), ctxFor(`${prefix}s`, 2));
        const stale = await rejectionOf(store.put(entry(id, 'v1'), ctxFor(`${prefix}s`, 1)));
        assert.equal((stale as { code?: string }).code, 'STORE_FENCED', `${id}: ${String(stale)}`);
        assert.deepEqual(await store.get(id), entry(id, 'v2'));
        await store.remove(id, 'v2', ctxFor(`${prefix}s`, 2));
        assert.equal(await store.get(id), undefined, id);
      }
    } finally {
      await store.close();
    }
  });

  void it('batches, multi-gets and scans span all three masters', async () => {
    const store = createRedisStore({ url, timeoutMs: 10_000 });
    await store.connect();
    const ids = Array.from({ length: 60 }, (_, i) => `${prefix}spread-${i}`);
    try {
      const slots = new Set(ids.map((id) => Math.floor(calculateSlot(docKey(id)) / 5462)));
      assert.equal(slots.size, 3, 'the ids hash into every third of the slot range');
      const put = await store.putBatch(ids.map((id) => ({ entry: entry(id, 'x'), ctx: ctxFor(`${prefix}b`, 1) })));
      assert.ok(
        put.every((o) => o.ok),
        JSON.stringify(put.filter((o) => !o.ok)),
      );
      assert.equal((await store.getMany(ids)).length, ids.length);
      const seen = new Set<string>();
      let cursor: string | null = null;
      do {
        const page = await store.scanDocIds(cursor, 7);
        for (const id of page.docIds) if (id.startsWith(prefix)) seen.add(id);
        cursor = page.next;
      } while (cursor !== null);
      assert.equal(seen.size, ids.length);
      assert.deepEqual((await store.listDocIds(`${prefix}spread-`, 1000)).filter((id) => id.startsWith(prefix)).sort(), [...ids].sort());
      const removed = await store.removeBatch(ids.map((docId) => ({ docId, contentSha256: null })));
      assert.ok(removed.every((o) => o.ok));
      assert.deepEqual(await store.getMany(ids), []);
    } finally {
      await store.close();
    }
  });

  void it('a cursor from elsewhere is refused, not misread', async () => {
    const store = createRedisStore({ url, timeoutMs: 10_000 });
    await store.connect();
    try {
      const err = await rejectionOf(store.scanDocIds('12345', 10));
      assert.equal((err as { code?: string }).code, 'STORE_PERMANENT', String(err));
    } finally {
      await store.close();
    }
  });
});
