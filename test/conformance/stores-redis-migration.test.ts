// The key layout migration (src/stores/redis/migrate-keys.ts) on the real Redis server: layout-1
// keys planted as the previous release wrote them move at connect, fences keep their token and
// TTL, two processes migrating at once and a migration cut in the middle lose nothing, and on the
// cluster old keys are refused with instructions. Standalone: database 1 (no other file uses it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedisStore, docKey, fenceKey } from '../../src/stores/redis/cache-store.js';
import { KEYS_VERSION_KEY } from '../../src/stores/redis/keys.js';
import { MIGRATE_KEY_SCRIPT } from '../../src/stores/redis/migrate-keys.js';
import type { CacheEntry } from '../../src/stores/types.js';
import { ctxFor, rejectionOf } from '../support/conformance/fixtures.js';
import { flushCluster } from '../support/real-stores.js';
import { testRedisClusterUrl, testServices } from '../support/services.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';

const url = `${testServices().redisUrl.replace(/\/\d*$/, '')}/1`;
const entry = (docId: string, body: string): CacheEntry => ({ docId, title: body, contentSha256: body, chunkCount: 1, metadata: {} });
const legacyDoc = (id: string): string => `apex:doc:${id}`;
const legacyFence = (id: string, saga: string): string => `apex:fence:${id.length}:${id}:${saga}`;
const IDS = ['plain', 'a:b', '}lead', '{x}', 'emoji 🧠', 'apex:doc:nested'];

async function fresh(): Promise<Redis> {
  const raw = new Redis(url);
  await raw.flushdb();
  return raw;
}

async function legacyKeys(raw: Redis): Promise<string[]> {
  return [...(await raw.keys('apex:doc:*')), ...(await raw.keys('apex:fence:*'))];
}

void describe('Redis key layout migration', () => {
  void it('connect moves entries and fences (token and TTL kept); the fence still refuses a stale token', async () => {
    const raw = await fresh();
    for (const id of IDS) {
      await raw.set(legacyDoc(id), JSON.stringify(entry(id, `old ${id}`)));
      await raw.set(legacyFence(id, 'saga-1'), '5', 'EX', 3600);
    }
    await raw.set('unrelated', 'kept');
    const store = createRedisStore({ url, timeoutMs: 10_000 });
    try {
      await store.connect();
      assert.deepEqual(await legacyKeys(raw), []);
      assert.equal(await raw.get(KEYS_VERSION_KEY), '2');
      assert.equal(await raw.get('unrelated'), 'kept');
      for (const id of IDS) {
        assert.deepEqual(await store.get(id), entry(id, `old ${id}`), id);
        assert.equal(await raw.get(fenceKey(id, 'saga-1')), '5');
        const ttl = await raw.ttl(fenceKey(id, 'saga-1'));
        assert.ok(ttl > 3500 && ttl <= 3600, `TTL ${ttl}`);
        const err = await rejectionOf(store.put(entry(id, 'late'), ctxFor('saga-1', 4)));
        assert.equal((err as { code?: string }).code, 'STORE_FENCED', String(err));
      }
      assert.deepEqual((await store.listDocIds(null, 100)).sort(), [...IDS].sort());
    } finally {
      await store.close();
      raw.disconnect();
    }
  });

  void it('two processes migrating at once, one of them resuming a cut migration: every key once, none lost', async () => {
    const raw = await fresh();
    const n = 400;
    const id = (i: number): string => `doc-${i}`;
    for (let i = 0; i < n; i++) await raw.set(legacyDoc(id(i)), JSON.stringify(entry(id(i), 'old')));
    // A migration cut after 100 keys (each key moves in one script, so it stops between keys).
    for (let i = 0; i < 100; i++) await raw.eval(MIGRATE_KEY_SCRIPT, 2, legacyDoc(id(i)), docKey(id(i)), 'doc');
    // A newer entry already under the new key wins over the old one.
    await raw.set(docKey(id(200)), JSON.stringify(entry(id(200), 'newer')));
    const a = createRedisStore({ url, timeoutMs: 10_000 });
    const b = createRedisStore({ url, timeoutMs: 10_000 });
    try {
      await Promise.all([a.connect(), b.connect()]);
      assert.deepEqual(await legacyKeys(raw), []);
      const ids = Array.from({ length: n }, (_, i) => id(i));
      const got = await a.getMany(ids);
      assert.equal(got.length, n);
      assert.deepEqual(
        got.filter((e) => e.contentSha256 !== 'old').map((e) => e.docId),
        [id(200)],
      );
    } finally {
      await a.close();
      await b.close();
      raw.disconnect();
    }
  });

  void it('a store whose connect failed (lenient start) migrates before its first call once Redis is back', async () => {
    const raw = await fresh();
    await raw.set(legacyDoc('late'), JSON.stringify(entry('late', 'old')));
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const store = createRedisStore({ url: viaProxy(url, proxy), timeoutMs: 2_000 });
    try {
      proxy.cutNow();
      await rejectionOf(store.connect());
      proxy.restore();
      let got: CacheEntry | undefined;
      for (let i = 0; i < 50 && got === undefined; i++) {
        got = await store.get('late').catch(() => undefined); // reconnecting: transient errors
        if (got === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      assert.deepEqual(got, entry('late', 'old'));
      assert.deepEqual(await legacyKeys(raw), []);
    } finally {
      await store.close();
      await proxy.close();
      raw.disconnect();
    }
  });

  void it('on a Redis Cluster, old-layout keys are refused with instructions, and nothing is written', async () => {
    const clusterUrl = testRedisClusterUrl();
    await flushCluster(clusterUrl);
    const store = createRedisStore({ url: clusterUrl, timeoutMs: 10_000 });
    const seed = createRedisStore({ url: clusterUrl, timeoutMs: 10_000 });
    try {
      await seed.connect(); // empty cluster: nothing to migrate, the marker is set
      // Plant an old key and drop the marker through a plain client.
      const { Cluster } = await import('ioredis');
      const { parseRedisUrl } = await import('../../src/lib/redis-url.js');
      const target = parseRedisUrl(clusterUrl);
      assert.equal(target.kind, 'cluster');
      const admin = new Cluster(target.kind === 'cluster' ? target.seeds : []);
      try {
        await admin.set(legacyDoc('x'), JSON.stringify(entry('x', 'old')));
        await admin.del(KEYS_VERSION_KEY);
        const err = await rejectionOf(store.connect());
        assert.equal((err as { code?: string }).code, 'STORE_PERMANENT', String(err));
        assert.match(String(err), /previous layout.*docs\/stores\.md/s);
        assert.equal(await admin.get(KEYS_VERSION_KEY), null);
        assert.equal(await admin.exists(docKey('x')), 0);
      } finally {
        admin.disconnect();
      }
    } finally {
      await store.close();
      await seed.close();
      await flushCluster(clusterUrl);
    }
  });
});
