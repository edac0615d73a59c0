// The Redis adapter against the cache conformance suite on the 6-node Redis Cluster of
// `bash scripts/services.sh up` (REDIS_URL=redis+cluster://...), plus what only a cluster shows:
// ids whose braces would break a naive hash tag, batches and scans spanning every master.
// The stall/drop cases put a TCP proxy in front of every node and map the addresses the cluster
// announces to them (natMap), so the client's connections all pass through a proxy.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { createRedisStore, docKey, fenceKey } from '../../src/stores/redis/cache-store.js';
import type { CacheEntry, CacheStore } from '../../src/stores/types.js';
import { ctxFor, rejectionOf, runPrefix } from '../support/conformance/fixtures.js';
import { testNamespace, testRedisClusterUrl } from '../support/services.js';
import { cacheConformance } from '../support/store-conformance.js';
import { startTcpProxy, type CuttableProxy } from '../support/tcp-proxy.js';
import { parseRedisUrl } from '../../src/lib/redis-url.js';
import type { RedisCacheStore } from '../../src/stores/redis/cache-store.js';

const url = testRedisClusterUrl();

/** A store whose every node connection passes through its own proxy; `arm` picks stall or cut. */
async function viaProxies<T>(
  timeoutMs: number,
  arm: (p: CuttableProxy) => Promise<void>,
  write: (s: CacheStore) => Promise<T>,
): Promise<unknown> {
  const target = parseRedisUrl(url);
  if (target.kind !== 'cluster') throw new Error('APEX_TEST_REDIS_CLUSTER_URL is not a cluster URL');
  const proxies = await Promise.all(target.seeds.map((s) => startTcpProxy(s.host, s.port)));
  const natMap = Object.fromEntries(
    target.seeds.map((s, i) => [`${s.host}:${s.port}`, { host: '127.0.0.1', port: proxies[i]?.port ?? 0 }]),
  );
  const seeds = proxies.map((p) => `127.0.0.1:${p.port}`).join(',');
  const store: RedisCacheStore = createRedisStore({ url: `redis+cluster://${seeds}`, timeoutMs, natMap, ...testNamespace() });
  try {
    await store.connect();
    const hit = Promise.race(proxies.map(arm));
    const err = await rejectionOf(write(store));
    await hit;
    return err;
  } finally {
    await store.close();
    await Promise.all(proxies.map((p) => p.close()));
  }
}

cacheConformance({
  label: 'redis-cluster',
  async open(): Promise<CacheStore> {
    const store = createRedisStore({ url, timeoutMs: 10_000, ...testNamespace() });
    await store.connect();
    return store;
  },
  unreachable: () => createRedisStore({ url: 'redis+cluster://127.0.0.1:1,127.0.0.1:2', timeoutMs: 3_000 }),
  stallMidCall: (write) => viaProxies(1_000, (p) => p.stallOn('}:doc'), write),
  dropMidCall: (write) => viaProxies(5_000, (p) => p.cutOn('}:doc'), write),
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
