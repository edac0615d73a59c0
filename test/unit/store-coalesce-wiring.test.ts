// coalesceStores (src/stores/coalesce/stores.ts) on the SQLite stand-ins in memory: concurrent
// per-document calls become one batched call; the fault wrapper above it still fails single
// members; a batch-level fault (withFaults on the adapter's batched method) fails every member of
// that batch, as a real whole-batch failure would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnv } from '../../src/config/profile.js';
import { BatchStats, coalesceStores } from '../../src/stores/coalesce/stores.js';
import { isStoreError } from '../../src/stores/errors.js';
import { withFaults } from '../../src/stores/faults.js';
import { openSqliteCache } from '../../src/stores/sqlite/cache-store.js';
import { openSqliteGraph } from '../../src/stores/sqlite/graph-store.js';
import { openSqliteVector } from '../../src/stores/sqlite/vector-store.js';
import type { GraphStore, RelationalStore, StoreSet } from '../../src/stores/types.js';
import { ctxFor, makeVersion } from '../support/conformance/fixtures.js';

async function storeSet(graph?: (g: GraphStore) => GraphStore): Promise<StoreSet> {
  const neo4j = await openSqliteGraph(':memory:');
  return {
    // Not used here: a relational store without batched calls passes through untouched.
    postgres: { name: 'postgres' } as unknown as RelationalStore,
    neo4j: graph ? graph(neo4j) : neo4j,
    qdrant: await openSqliteVector(':memory:', 8),
    redis: await openSqliteCache(':memory:'),
  };
}

const settle = <T>(p: Promise<T>): Promise<{ ok: boolean; err?: unknown }> =>
  p.then(
    () => ({ ok: true }),
    (err: unknown) => ({ ok: false, err }),
  );

void describe('coalesceStores', () => {
  void it('concurrent writes of five documents go out as one batched call, each written', async () => {
    const stats = new BatchStats();
    const stores = coalesceStores(await storeSet(), {}, stats);
    const docs = [0, 1, 2, 3, 4].map((i) => makeVersion({ docId: `d${i}`, body: `body ${i}` }));
    await Promise.all(docs.map((v) => stores.neo4j.writeVersion(v, ctxFor(`s${v.docId}`))));
    assert.deepEqual(stats.summary()['neo4j.writeVersion'], { batches: 1, members: 5, p50: 5, max: 5 });
    for (const v of docs) assert.equal((await stores.neo4j.listVersions(v.docId)).length, 1);
    await Promise.all([
      stores.redis.put({ docId: 'd0', title: 't', contentSha256: 'x', chunkCount: 1, metadata: {} }, ctxFor('s')),
      stores.redis.put({ docId: 'd1', title: 't', contentSha256: 'y', chunkCount: 1, metadata: {} }, ctxFor('s')),
    ]);
    assert.equal(stats.summary()['redis.put']?.max, 2);
    assert.equal((await stores.redis.getMany(['d0', 'd1'])).length, 2);
  });

  void it('a per-member fault (fault wrapper above the coalescer) fails that member only', async () => {
    const coalesced = coalesceStores(await storeSet());
    const { store: graph } = withFaults(coalesced.neo4j, {
      failOn: [{ method: 'writeVersion', skip: 1, when: 'before', retryable: true }],
    });
    const docs = [0, 1, 2].map((i) => makeVersion({ docId: `m${i}`, body: `member ${i}` }));
    const out = await Promise.all(docs.map((v) => settle(graph.writeVersion(v, ctxFor(`s${v.docId}`)))));
    assert.deepEqual(
      out.map((o) => o.ok),
      [true, false, true],
    );
    assert.deepEqual(await graph.listVersions('m1'), [], 'the failed member was never sent');
    assert.equal((await graph.listVersions('m2')).length, 1);
  });

  void it("a batch-level fault (on the adapter's batched call) fails every member of that batch; they retry", async () => {
    const stats = new BatchStats();
    const stores = coalesceStores(
      await storeSet((g) => withFaults(g, { failOn: [{ method: 'writeVersionBatch', when: 'after', retryable: true }] }).store),
      {},
      stats,
    );
    const docs = [0, 1, 2].map((i) => makeVersion({ docId: `b${i}`, body: `batch ${i}` }));
    const first = await Promise.all(docs.map((v) => settle(stores.neo4j.writeVersion(v, ctxFor(`s${v.docId}`)))));
    for (const o of first) assert.ok(!o.ok && isStoreError(o.err) && o.err.code === 'STORE_INJECTED' && o.err.retryable);
    // 'after': the batch applied, yet its members saw a failure (in doubt); their retries are no-ops.
    for (const v of docs) assert.equal((await stores.neo4j.listVersions(v.docId)).length, 1);
    const again = await Promise.all(docs.map((v) => settle(stores.neo4j.writeVersion(v, ctxFor(`s${v.docId}`)))));
    assert.deepEqual(
      again.map((o) => o.ok),
      [true, true, true],
    );
    assert.equal(stats.summary()['neo4j.writeVersion']?.batches, 2);
  });

  void it('APEX_STORE_COALESCE: on/off, anything else is CONFIG_INVALID naming the variable', () => {
    assert.equal(configFromEnv({ APEX_STORE_COALESCE: 'off' }).coalesce, false);
    assert.equal(configFromEnv({ APEX_STORE_COALESCE: 'ON' }).coalesce, true);
    assert.equal(configFromEnv({}).coalesce, undefined);
    assert.throws(
      () => configFromEnv({ APEX_STORE_COALESCE: 'maybe' }),
      (err: unknown) => (err as { code?: unknown }).code === 'CONFIG_INVALID' && /APEX_STORE_COALESCE/.test(String(err)),
    );
  });

  void it('APEX_STORE_COALESCE_IN_FLIGHT: 1-64, else CONFIG_INVALID naming the variable and the range', () => {
    assert.equal(configFromEnv({ APEX_STORE_COALESCE_IN_FLIGHT: '2' }).coalesceInFlight, 2);
    assert.equal(configFromEnv({}).coalesceInFlight, undefined);
    for (const bad of ['0', '65', 'two']) {
      assert.throws(
        () => configFromEnv({ APEX_STORE_COALESCE_IN_FLIGHT: bad }),
        (err: unknown) =>
          (err as { code?: unknown }).code === 'CONFIG_INVALID' &&
          /APEX_STORE_COALESCE_IN_FLIGHT/.test(String(err)) &&
          /64/.test(String(err)),
      );
    }
  });

  void it('a store named in skip passes through uncoalesced', async () => {
    const stats = new BatchStats();
    const stores = coalesceStores(await storeSet(), { skip: ['neo4j'] }, stats);
    const docs = [0, 1].map((i) => makeVersion({ docId: `k${i}`, body: `skip ${i}` }));
    await Promise.all(docs.map((v) => stores.neo4j.writeVersion(v, ctxFor('s'))));
    await Promise.all(docs.map((v) => stores.qdrant.writeVersion(v, ctxFor('s'))));
    assert.equal(stats.summary()['neo4j.writeVersion'], undefined);
    assert.equal(stats.summary()['qdrant.writeVersion']?.members, 2);
  });
});
