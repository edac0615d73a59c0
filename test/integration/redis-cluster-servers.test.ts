// The servers profile with a Redis Cluster as Redis (REDIS_URL=redis+cluster://..., the 6-node
// cluster of scripts/services.sh). A master fails over (CLUSTER FAILOVER on its replica) while an
// ingest runs: the writes redirected by MOVED are followed, nothing is compensated, the entries
// are spread over the three masters, and verify reports 0.
import { rmSync } from 'node:fs';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { json } from '../support/cli.js';
import { runCliAsync, spawnCli } from '../support/cli-async.js';
import { corpusVariant } from '../support/corpus-variants.js';
import { realStores } from '../support/real-stores.js';
import { parseRedisUrl } from '../../src/lib/redis-url.js';
import { DOC_KEY_PATTERN } from '../../src/stores/redis/keys.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Documents per ingest: enough to still be running when the failover completes (~1 s) on a quiet
 * machine too (40 at c=1 took 1.9 s there: done before any progress line), cheap. */
const DOCS = 120;
/** Cache entries written before the failover starts: under way, far from the end. */
const FAIL_OVER_AFTER = 5;

/** The corpus variant cut to its first DOCS documents. */
function smallCorpus(marker?: string): { dir: string; files: string[] } {
  const v = corpusVariant(marker);
  for (const f of v.files.slice(DOCS)) rmSync(f);
  return { dir: v.dir, files: v.files.slice(0, DOCS) };
}

async function openAdmin(url: string): Promise<Cluster> {
  const target = parseRedisUrl(url);
  if (target.kind !== 'cluster') throw new Error('not a cluster URL');
  const admin = new Cluster(target.seeds);
  await admin.ping();
  return admin;
}

/** Entry keys per master (a SCAN of each). */
async function entriesPerMaster(admin: Cluster): Promise<number[]> {
  admin.refreshSlotsCache();
  await sleep(200);
  return Promise.all(
    admin.nodes('master').map(async (node) => {
      let n = 0;
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', DOC_KEY_PATTERN, 'COUNT', 1000);
        cursor = next;
        n += keys.length;
      } while (cursor !== '0');
      return n;
    }),
  );
}

/** Runs CLUSTER FAILOVER on a replica and waits until it reports itself master. */
async function failOverOneMaster(admin: Cluster): Promise<string> {
  const replica = admin.nodes('slave')[0];
  if (!replica) throw new Error('the cluster has no replica');
  const name = `${replica.options.host ?? ''}:${replica.options.port ?? ''}`;
  await replica.call('CLUSTER', 'FAILOVER');
  for (let i = 0; i < 100; i++) {
    const role = (await replica.call('ROLE')) as unknown[];
    if (role[0] === 'master') return name;
    await sleep(100);
  }
  throw new Error(`${name} did not become master within 10 s`);
}

test(
  'Redis Cluster as Redis: a master fails over mid-ingest, nothing compensated, entries on every master, verify 0',
  { timeout: 180_000 },
  async (t) => {
    const t0 = Date.now();
    const mark = (what: string): void => t.diagnostic(`${what} at ${Date.now() - t0} ms`);
    const stores = await realStores('redis_cluster', 0, { redisCluster: true });
    const c = stores.config;
    const env: Record<string, string> = {
      DATABASE_URL: c.databaseUrl ?? '',
      NEO4J_URL: c.neo4jUrl ?? '',
      QDRANT_URL: c.qdrantUrl ?? '',
      REDIS_URL: c.redisUrl ?? '',
      SAGA_LOG_URL: c.sagaLogUrl ?? '',
      APEX_DATA_DIR: c.dataDir,
    };
    const admin = await openAdmin(c.redisUrl ?? '');
    try {
      mark('stores ready');
      const corpus = smallCorpus();
      const run = spawnCli(['ingest', corpus.dir, '-c', '1'], env);
      // Started by what the cluster holds, not by a progress line: those come on a timer, and a quick
      // ingest printed none before it ended.
      for (let n = 0; n < FAIL_OVER_AFTER; n = (await entriesPerMaster(admin)).reduce((a, b) => a + b, 0)) {
        assert.equal(run.child.exitCode, null, `the ingest ended before ${FAIL_OVER_AFTER} entries were written:\n${run.output()}`);
      }
      mark('ingest under way');
      const promoted = await failOverOneMaster(admin);
      mark(`${promoted} promoted`);
      // Otherwise no write met the failover and the test proves nothing.
      assert.equal(run.child.exitCode, null, `the ingest ended before the failover completed:\n${run.output()}`);
      const done = await run.exited;
      assert.equal(done.code, 0, run.output());
      assert.match(run.output(), /compensated\s+0\n/, run.output());
      const after = await entriesPerMaster(admin);
      assert.equal(after.length, 3, `masters: ${after.join(',')}`);
      assert.ok(
        after.every((n) => n > 0),
        `entries per master ${after.join(',')}`,
      );
      assert.ok(
        admin.nodes('master').some((n) => `${n.options.host ?? ''}:${n.options.port ?? ''}` === promoted),
        `${promoted} is a master now`,
      );
      assert.equal(
        after.reduce((a, b) => a + b, 0),
        corpus.files.length,
      );
      const verify = await runCliAsync(['verify', '--json'], env);
      assert.deepEqual(json<{ violations: unknown[] }>(verify).violations, []);
      mark('verify done');
    } finally {
      admin.disconnect();
      await stores.close();
    }
  },
);
