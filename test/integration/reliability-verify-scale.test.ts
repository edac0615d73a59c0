// verify at scale on the servers profile: 100,000 committed documents (x RELIABILITY_SCALE), two
// chunks each, seeded straight into PostgreSQL, Neo4j, Qdrant (the Edge front, own collection with
// 4 dimensions so seeding stays quick) and Redis, not through sagas. A handful of planted faults
// of every kind must come back exactly, with a bounded number of store calls per page (no
// per-document round trip) and the heap sampled throughout. Figures go to
// test-artifacts/reliability/verify-scale.json for docs/RELIABILITY.md.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import { QdrantClient } from '@qdrant/js-client-rest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { verifyStores, type Violation } from '../../src/ingest/verify.js';
import { createPostgresStore } from '../../src/stores/postgres/relational-store.js';
import { createNeo4jStore } from '../../src/stores/neo4j/graph-store.js';
import { createQdrantStore } from '../../src/stores/qdrant/vector-store.js';
import { createRedisStore, docKey } from '../../src/stores/redis/cache-store.js';
import { pointId } from '../../src/stores/point-id.js';
import type { StoreSet } from '../../src/stores/types.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { qdrantFrontUrl } from '../support/qdrant-front.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';

const N = Math.round(100_000 * reliabilityScale());
const CHUNKS = 2;
const BATCH = 1_000;
const COLLECTION = `apex_scale_${process.pid}`;
const idOf = (i: number): string => `doc-${String(i).padStart(7, '0')}`;
const shaOf = (i: number): string => `v${i}`;

let env: RealStores;
let stores: StoreSet;
const calls = new Map<string, number>();
const seeded: Record<string, number> = {};

/** Counts every method call on a store (each is one round trip, or a few for a Qdrant scroll). */
function counted<T extends object>(store: T, name: string): T {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]): unknown => {
        calls.set(`${name}.${prop}`, (calls.get(`${name}.${prop}`) ?? 0) + 1);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

async function timed(label: string, work: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  await work();
  seeded[label] = Math.round(performance.now() - t0);
}

before(
  async () => {
    env = await realStores('verify_scale', 9);
    const postgres = createPostgresStore({ url: env.databaseUrl, timeoutMs: 120_000 });
    const graph = createNeo4jStore({ url: env.config.neo4jUrl ?? '', timeoutMs: 120_000 });
    const vector = createQdrantStore({ url: qdrantFrontUrl(), dimension: 4, collection: COLLECTION, timeoutMs: 120_000 });
    const cache = createRedisStore({ url: env.config.redisUrl ?? '', timeoutMs: 60_000 });
    for (const s of [postgres, graph, vector, cache]) await s.connect();
    stores = {
      postgres: counted(postgres, 'postgres'),
      neo4j: counted(graph, 'neo4j'),
      qdrant: counted(vector, 'qdrant'),
      redis: counted(cache, 'redis'),
    };

    await timed('postgresMs', async () => {
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: env.databaseUrl });
      await client.connect();
      await client.query(
        `INSERT INTO documents (id, title, content_sha256, ingestion_status, saga_id)
      SELECT 'doc-' || lpad(i::text, 7, '0'), 'Title ' || i, 'v' || i, 'committed', 'seed' FROM generate_series(1, $1::int) AS i`,
        [N],
      );
      await client.query(
        `INSERT INTO chunks (doc_id, content_sha256, idx, text)
      SELECT 'doc-' || lpad(i::text, 7, '0'), 'v' || i, k, 'chunk ' || k || ' of ' || i FROM generate_series(1, $1::int) AS i, generate_series(0, $2::int - 1) AS k`,
        [N, CHUNKS],
      );
      await client.query('ANALYZE');
      await client.end();
    });
    await timed('neo4jMs', async () => {
      const driver = neo4j.driver(env.config.neo4jUrl ?? '');
      const session = driver.session();
      for (let from = 1; from <= N; from += 20_000) {
        await session.run(
          `UNWIND range($from, $to) AS i
         WITH 'doc-' + right('0000000' + toString(i), 7) AS id, 'v' + toString(i) AS sha
         CREATE (d:Document {id: id})
         WITH d, id, sha UNWIND range(0, $chunks - 1) AS k
         CREATE (d)-[:HAS_CHUNK]->(:Chunk {id: id + ':' + sha + ':' + toString(k), doc_id: id, content_sha256: sha, idx: k})`,
          { from: neo4j.int(from), to: neo4j.int(Math.min(N, from + 19_999)), chunks: neo4j.int(CHUNKS) },
        );
      }
      await session.close();
      await driver.close();
    });
    await timed('qdrantMs', async () => {
      const client = new QdrantClient({ url: qdrantFrontUrl(), checkCompatibility: false, timeout: 120_000 });
      const pending: Array<Promise<unknown>> = [];
      for (let from = 1; from <= N; from += 2_500) {
        const points = [];
        for (let i = from; i < Math.min(N + 1, from + 2_500); i += 1) {
          for (let k = 0; k < CHUNKS; k += 1) {
            points.push({
              id: pointId(idOf(i), shaOf(i), k),
              vector: [1, (i % 7) + 1, k + 1, 0.5],
              payload: { doc_id: idOf(i), content_sha256: shaOf(i), idx: k },
            });
          }
        }
        pending.push(client.upsert(COLLECTION, { wait: true, points }));
        if (pending.length >= 4) await Promise.all(pending.splice(0));
      }
      await Promise.all(pending);
    });
    await timed('redisMs', async () => {
      const redis = new Redis(env.config.redisUrl ?? '');
      for (let from = 1; from <= N; from += 10_000) {
        const pipe = redis.pipeline();
        for (let i = from; i < Math.min(N + 1, from + 10_000); i += 1) {
          pipe.set(
            docKey(idOf(i)),
            JSON.stringify({ docId: idOf(i), title: `Title ${i}`, contentSha256: shaOf(i), chunkCount: CHUNKS, metadata: {} }),
          );
        }
        await pipe.exec();
      }
      redis.disconnect();
    });

    // The planted faults, one or more of each kind verify reports.
    const v = (docId: string, sha: string) => ({
      docId,
      title: 't',
      contentSha256: sha,
      metadata: {},
      chunks: [{ idx: 0, text: 'x', entities: [], embedding: [1, 1, 1, 1] }],
    });
    const ctx = { sagaId: 'plant', fencingToken: 1 };
    await graph.writeVersion(v('zz-orphan-graph', 's1'), ctx);
    await vector.writeVersion(v('zz-orphan-vector', 's1'), ctx);
    await cache.put({ docId: 'zz-orphan-cache', title: 't', contentSha256: 's1', chunkCount: 1, metadata: {} }, ctx);
    await vector.writeVersion(v(idOf(50), 'old'), ctx); // stale_version in Qdrant
    await graph.removeVersion(idOf(N - 1), shaOf(N - 1)); // missing_version in Neo4j
    await cache.put(
      { docId: idOf(1), title: 't', contentSha256: 'old', chunkCount: 1, metadata: {} },
      { sagaId: 'plant-2', fencingToken: 1 },
    ); // cache_stale
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: env.databaseUrl });
    await client.connect();
    await client.query(`UPDATE documents SET ingestion_status = 'deleting' WHERE id = $1`, [idOf(500)]); // not_final + orphans
    await client.query(`DELETE FROM chunks WHERE doc_id = $1 AND idx = 1`, [idOf(700)]); // chunk_count in both derived stores
    await client.end();
  },
  { timeout: 600_000 },
);

after(async () => {
  await fetch(`${qdrantFrontUrl()}/collections/${COLLECTION}`, { method: 'DELETE' }).catch(() => undefined);
  for (const s of Object.values(stores ?? {})) await s.close();
  const driver = neo4j.driver(env.config.neo4jUrl ?? '');
  await driver
    .session()
    .run('MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS')
    .catch(() => undefined);
  await driver.close();
  const redis = new Redis(env.config.redisUrl ?? '');
  await redis.flushdb();
  redis.disconnect();
  await env?.close();
});

test(
  `verify streams ${N.toLocaleString('en')} documents with bounded calls and memory, and finds exactly the planted faults`,
  { timeout: 300_000 },
  async () => {
    calls.clear();
    // Retained memory: the heap right after a full collection, sampled while verify runs (the peak
    // without collecting mostly measures garbage not yet collected; both are reported).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let retainedPeak = baseline;
    let ticks = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().heapUsed);
      if (++ticks % 10 === 0) {
        gc();
        retainedPeak = Math.max(retainedPeak, process.memoryUsage().heapUsed);
      }
    }, 20);
    const t0 = performance.now();
    const report = await verifyStores(stores, { batchSize: BATCH });
    const verifyMs = Math.round(performance.now() - t0);
    clearInterval(sampler);

    const key = (x: Violation): string => `${x.kind} ${x.store} ${x.docId}${x.version ? ` ${x.version}` : ''}`;
    assert.deepEqual(
      report.violations.map(key).sort(),
      [
        `cache_stale redis ${idOf(1)} old`,
        `chunk_count neo4j ${idOf(700)}`,
        `chunk_count qdrant ${idOf(700)}`,
        `missing_version neo4j ${idOf(N - 1)}`,
        `not_final postgres ${idOf(500)}`,
        `orphan_data neo4j ${idOf(500)}`,
        'orphan_data neo4j zz-orphan-graph',
        `orphan_data qdrant ${idOf(500)}`,
        'orphan_data qdrant zz-orphan-vector',
        `orphan_data redis ${idOf(500)}`,
        'orphan_data redis zz-orphan-cache',
        `stale_version qdrant ${idOf(50)} old`,
      ].sort(),
    );
    assert.equal(report.documents, N);
    assert.equal(report.committed, N - 1);

    // Round trips: a constant number per page of 1,000 documents, never one per document.
    const pages = Math.ceil(N / BATCH) + 1;
    const total = [...calls.values()].reduce((a, b) => a + b, 0);
    const perDocument = ['postgres.getChunks', 'postgres.getPendingVersions', 'neo4j.listVersions', 'qdrant.listVersions', 'redis.get'];
    for (const m of perDocument) assert.equal(calls.get(m) ?? 0, 0, `${m} called per document`);
    assert.ok((calls.get('postgres.inspectDocuments') ?? 0) <= pages);
    for (const m of ['neo4j.versionsOf', 'qdrant.versionsOf', 'redis.getMany'])
      assert.ok((calls.get(m) ?? 0) <= pages, `${m}: ${calls.get(m)}`);
    // Orphan pass: one status query per scanned page; Qdrant scans points (2 per document), Redis's COUNT is a hint.
    assert.ok(total < pages * 20, `${total} store calls for ${N} documents`);
    const heapGrowthMb = Math.round((peak - baseline) / 1e5) / 10;
    const retainedGrowthMb = Math.round((retainedPeak - baseline) / 1e5) / 10;
    // Bounded memory: a page at a time (1,000 rows and their versions) is retained, never every row.
    assert.ok(retainedGrowthMb < 64, `retained heap grew by ${retainedGrowthMb} MB`);

    writeResult('verify-scale', {
      documents: N,
      chunksPerDocument: CHUNKS,
      batch: BATCH,
      verifyMs,
      storeCalls: total,
      callsByMethod: Object.fromEntries([...calls.entries()].sort()),
      peakHeapGrowthMb: heapGrowthMb,
      retainedHeapGrowthMb: retainedGrowthMb,
      seedingMs: seeded,
      violationsFound: report.violations.length,
      violationsPlanted: 12,
    });
    console.log(
      `verify: ${N} documents in ${verifyMs} ms, ${total} store calls, peak heap +${heapGrowthMb} MB (retained after GC +${retainedGrowthMb} MB); seeding ${JSON.stringify(seeded)}`,
    );
  },
);
