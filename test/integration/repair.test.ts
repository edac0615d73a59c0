// `repair` against the real servers: damage of every kind verify reports in the derived stores
// (orphan points from a stalled owner, a stale graph version, a lost Qdrant version, a stale
// cache entry) is fixed from PostgreSQL; a dry run changes nothing; the CLI refuses to repair
// while a saga is in flight.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { submitIngest } from '../../src/fleet/submit.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { searchDocuments } from '../../src/ingest/read.js';
import { repairStores } from '../../src/ingest/repair.js';
import { versionOf } from '../../src/ingest/sagas/version.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { realStores, type RealStores } from '../support/real-stores.js';

const ROOT = resolve(import.meta.dirname, '../..');
let env: RealStores;
let app: App;
const ctx = { sagaId: 'damage', fencingToken: 1 };

before(async () => {
  env = await realStores('repair', 6);
  app = await openApp({ config: env.config, embedder: new HashingEmbedder() });
  for (const id of ['a', 'b', 'c']) {
    const r = await app.writer.ingest({
      id,
      title: `Doc ${id}`,
      text: `Document ${id} talks about Orion Nebula and Kepler Station.`,
      metadata: {},
    });
    assert.equal(r.status, 'completed');
  }
});
after(async () => {
  await app.close();
  await env.close();
});

/** Async on purpose: the Qdrant checking proxy runs in this process and must keep serving. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = env.config;
  const child = spawn(process.execPath, [join(ROOT, 'bin/apex-memory.mjs'), ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      APEX_DATA_DIR: c.dataDir,
      DATABASE_URL: c.databaseUrl,
      NEO4J_URL: c.neo4jUrl,
      QDRANT_URL: c.qdrantUrl,
      REDIS_URL: c.redisUrl,
      SAGA_LOG_URL: c.sagaLogUrl,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((r) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      r({ code, stdout, stderr });
    }),
  );
}

test('repair fixes every kind of derived-store damage from PostgreSQL', async () => {
  const s = app.stores;
  const ghost = await versionOf({ id: 'ghost', title: 'Ghost', text: 'Orphan points of a stalled owner.', metadata: {} }, 'f'.repeat(64), {
    embedder: app.embedder,
  });
  await s.qdrant.writeVersion(ghost, ctx); // orphan_data in Qdrant
  const stale = await versionOf({ id: 'a', title: 'Doc a', text: 'An old version of a.', metadata: {} }, 'e'.repeat(64));
  await s.neo4j.writeVersion(stale, ctx); // stale_version in Neo4j
  await s.qdrant.removeDocument('b'); // missing_version in Qdrant
  await s.redis.put({ docId: 'c', title: 'Doc c', contentSha256: 'd'.repeat(64), chunkCount: 1, metadata: {} }, ctx); // cache_stale

  const damaged = await verifyStores(s);
  assert.deepEqual(damaged.violations.map((v) => `${v.kind}:${v.store}:${v.docId}`).sort(), [
    'cache_stale:redis:c',
    'missing_version:qdrant:b',
    'orphan_data:qdrant:ghost',
    'stale_version:neo4j:a',
  ]);

  const dry = await repairStores(s, app.embedder, { dryRun: true });
  assert.equal(dry.actions.length, 4);
  assert.equal(dry.after, undefined);
  assert.equal((await verifyStores(s)).violations.length, 4, 'a dry run changes nothing');

  const fixed = await repairStores(s, app.embedder, { dryRun: false });
  assert.deepEqual(fixed.after?.violations, []);
  assert.equal((await searchDocuments(s, app.embedder, 'Document b talks about Orion Nebula', 3))[0]?.id, 'b', 'b is searchable again');
  assert.equal((await s.redis.get('c'))?.contentSha256, (await s.postgres.getDocument('c'))?.contentSha256);
});

test('the CLI refuses to repair while a saga is in flight, and repairs once none is', async () => {
  await app.stores.qdrant.writeVersion(
    await versionOf({ id: 'ghost2', title: 'G', text: 'More orphan points.', metadata: {} }, 'c'.repeat(64), { embedder: app.embedder }),
    ctx,
  );
  const queued = await submitIngest(app, { id: 'queued', title: 'Q', text: 'Waiting for a worker.', metadata: {} });
  assert.ok(queued.sagaId !== undefined && queued.queued);
  const refused = await cli(['repair']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /1 saga\(s\) in flight/);
  assert.equal((await verifyStores(app.stores)).violations.length, 1, 'nothing was touched');

  // Let a worker-like owner finish the queued saga, then repair.
  assert.equal(await app.engine.recover({ includePending: true }), 1);
  await app.engine.idle();
  assert.equal((await app.engine.waitFor(queued.sagaId)).status, 'completed');
  const ok = await cli(['repair', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const report = JSON.parse(ok.stdout) as { ok: boolean; actions: unknown[] };
  assert.equal(report.ok, true);
  assert.equal(report.actions.length, 1);
  assert.deepEqual((await verifyStores(app.stores)).violations, []);
});
