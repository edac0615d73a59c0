// The production-topology settings (issue 24) through the real CLI, as a user sets them: NEO4J_URL
// with neo4j:// (routing), DATABASE_URL and SAGA_LOG_URL naming two hosts of which the first
// refuses connections (target_session_attrs=read-write), and the Qdrant layout settings. Ingest,
// verify, then `vacuum`, whose Neo4j fence sweep runs (nothing is old enough to go).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { json, runCli, serversEnv, type Run } from '../support/cli.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { testServices } from '../support/services.js';

/** The URL with a refused host (127.0.0.1:1) listed before its own host. */
function twoHosts(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.username}:${u.password}@127.0.0.1:1,${u.hostname}:${u.port || '5432'}${u.pathname}?target_session_attrs=read-write`;
}

void describe('apex-memory CLI on topology settings (neo4j://, multi-host PostgreSQL, Qdrant layout)', () => {
  let env: RealStores;
  let cli: (args: string[]) => Run;

  before(async () => {
    env = await realStores('e2e_topology', 10, { sagaLogOnPostgres: true });
    const c = env.config;
    const bolt = new URL(testServices().neo4jUrl);
    const vars = {
      ...serversEnv({ ...c, qdrantUrl: testServices().qdrantUrl }),
      DATABASE_URL: twoHosts(c.databaseUrl ?? ''),
      SAGA_LOG_URL: twoHosts(c.sagaLogUrl ?? ''),
      NEO4J_URL: `neo4j://${bolt.hostname}:${bolt.port || '7687'}`,
      QDRANT_SHARDS: '2',
      QDRANT_REPLICATION_FACTOR: '2',
      QDRANT_WRITE_CONSISTENCY: '1',
    };
    cli = (args) => runCli(args, { env: vars });
    const docs = join(c.dataDir, 'docs');
    mkdirSync(docs);
    writeFileSync(join(docs, 'orion.md'), '# Orion Relay\n\nOrion Relay forwards Kepler Station telemetry.\n');
    writeFileSync(join(docs, 'lumen.md'), '# Lumen Harbor\n\nLumen Harbor stores Orion Relay archives.\n');
  });
  after(async () => {
    await env.close();
  });

  test('ingest and verify through the routing driver and the read-write host; vacuum sweeps fences', () => {
    const ingest = cli(['ingest', join(env.config.dataDir, 'docs'), '--json']);
    assert.equal(ingest.code, 0, ingest.stdout + ingest.stderr);
    const s = json<{ ok: boolean; created: number; profile: { sagaLog: string } }>(ingest);
    assert.deepEqual([s.ok, s.created], [true, 2]);
    assert.ok(!ingest.stdout.includes('apex:apex@'), 'no password in the output');
    assert.match(s.profile.sagaLog, /^postgres postgresql:\/\/127\.0\.0\.1:1,127\.0\.0\.1:\d+\//, 'the profile names both hosts');
    const verify = cli(['verify', '--json']);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    assert.deepEqual(json<{ violations: unknown[] }>(verify).violations, []);
    const vacuum = cli(['vacuum', '--json']);
    assert.equal(vacuum.code, 0, vacuum.stdout + vacuum.stderr);
    const steps = json<{ steps: Array<{ target: string; done: string; ok: boolean }> }>(vacuum).steps;
    const fences = steps.find((st) => st.target === 'neo4j fences');
    assert.ok(fences?.ok, JSON.stringify(steps));
    assert.match(fences.done, /^removed 0 of [1-9]\d* fence node\(s\) \(sagas ended > 1000 leases of 30000 ms ago\)$/);
  });
});
