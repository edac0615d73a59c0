// The same-document reproduction on the servers profile (PostgreSQL, Neo4j, Redis, the Qdrant Edge
// front; the saga log on SQLite, as in the report): `apex-memory ingest -c 16` SIGKILLed mid-run,
// the same command again at once, `sagas recover` once the leases have expired, then verify must
// report 0 and the document must be readable and searchable. Before the single-writer rule this
// ended with committed versions missing from Neo4j and Qdrant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json } from '../support/cli.js';
import { runCliAsync, spawnCli } from '../support/cli-async.js';
import { corpusVariant } from '../support/corpus-variants.js';
import { realStores } from '../support/real-stores.js';

const LEASE_MS = 1_500;
const DOC = 'caching/020-memcached-and-least-recently-used-evicti.md';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'servers profile: SIGKILL mid-ingest, the same command at once, recover later: verify 0, readable, searchable',
  { timeout: 240_000 },
  async () => {
    const stores = await realStores('same_doc_servers', 14);
    const c = stores.config;
    const env: Record<string, string> = {
      DATABASE_URL: c.databaseUrl ?? '',
      NEO4J_URL: c.neo4jUrl ?? '',
      QDRANT_URL: c.qdrantUrl ?? '',
      REDIS_URL: c.redisUrl ?? '',
      SAGA_LOG_URL: c.sagaLogUrl ?? '',
      APEX_DATA_DIR: c.dataDir,
      APEX_LEASE_MS: String(LEASE_MS),
    };
    try {
      const corpus = corpusVariant('Second copy, changed between the runs.');
      const first = spawnCli(['ingest', corpusVariant().dir, '-c', '16'], env);
      const m = await first.waitFor(/ingest: ([1-9]\d*)\/\d+/);
      first.child.kill('SIGKILL');
      await first.exited;
      const rerun = await runCliAsync(['ingest', corpus.dir, '-c', '16'], env);
      assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
      assert.match(rerun.stdout, /compensated\s+0\n/);
      await sleep(LEASE_MS + 300);
      const recover = await runCliAsync(['sagas', 'recover'], env);
      assert.equal(recover.code, 0, recover.stdout + recover.stderr);
      const verify = await runCliAsync(['verify', '--json'], env);
      assert.deepEqual(json<{ violations: unknown[] }>(verify).violations, [], `killed after ${m[1]} documents`);
      const got = await runCliAsync(['get', DOC, '--json'], env);
      assert.equal(got.code, 0, got.stderr);
      assert.match(json<{ text: string }>(got).text, /Second copy, changed between the runs\./);
      const found = await runCliAsync(['search', 'memcached', 'least', 'recently', 'used', '--json', '-n', '10'], env);
      assert.ok(
        json<{ hits: Array<{ id: string }> }>(found).hits.some((h) => h.id === DOC),
        found.stdout,
      );
    } finally {
      await stores.close();
    }
  },
);
