// Derived stores that come back empty or without their schema (issue 22), on the real servers:
//  - the deterministic case: Neo4j emptied (nodes and constraints) plus two Entity nodes
//    with one name. Commands still connect, no entity write runs while the constraint is missing,
//    verify names what is missing and doubled, repair (the CLI, a new process) merges and rebuilds;
//  - each derived store wiped (schema dropped, Qdrant collection deleted, Redis flushed) during an
//    ingest: the ingest goes on, repair brings verify to 0;
//  - Neo4j emptied loses its fences: a stale owner's late write then lands, and what keeps it
//    harmless until repair (readers, verify, repair) is checked.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { getDocument } from '../../src/ingest/read.js';
import { repairStores } from '../../src/ingest/repair.js';
import { versionOf } from '../../src/ingest/sagas/version.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { isStoreError } from '../../src/stores/errors.js';
import { createNeo4jStore } from '../../src/stores/neo4j/graph-store.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { testServices } from '../support/services.js';

const ROOT = resolve(import.meta.dirname, '../..');
let env: RealStores;
let app: App;
const graph = neo4j.driver(testServices().neo4jUrl, undefined, { disableLosslessIntegers: true });

before(async () => {
  env = await realStores('empty_stores', 5);
  app = await openApp({ config: env.config, embedder: new HashingEmbedder() });
});
after(async () => {
  await app.close();
  await graph.close();
  await env.close();
});

async function cypher(q: string): Promise<Array<Record<string, unknown>>> {
  const s = graph.session();
  try {
    return (await s.run(q)).records.map((r) => r.toObject() as Record<string, unknown>);
  } finally {
    await s.close();
  }
}

/** Retries the test's own statements when they deadlock with the running ingest. */
async function retried(q: string, tolerate?: RegExp): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await cypher(q);
      return;
    } catch (err) {
      const code = String((err as { code?: unknown }).code);
      if (tolerate?.test(code)) return;
      if (attempt >= 20 || !/Transient|Deadlock/.test(code)) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** What a replaced or restored Neo4j looks like: no node, no constraint, no index (the marker goes first). */
async function emptyNeo4j(): Promise<void> {
  await retried('MATCH (m:ApexSchema) DETACH DELETE m');
  await retried('MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
  for (const r of await cypher('SHOW CONSTRAINTS YIELD name')) await retried(`DROP CONSTRAINT ${String(r.name)} IF EXISTS`);
  for (const r of await cypher("SHOW INDEXES YIELD name, type, owningConstraint WHERE owningConstraint IS NULL AND type <> 'LOOKUP'")) {
    // A running writer may have created the schema again meanwhile: its constraint now owns the index.
    await retried(`DROP INDEX ${String(r.name)} IF EXISTS`, /IndexDropFailed/);
  }
}

async function entityCopies(name: string): Promise<number> {
  const rows = await cypher(`MATCH (e:Entity {name: '${name}'}) RETURN count(e) AS n`);
  return Number(rows[0]?.n ?? 0);
}

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
  const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((r) =>
    child.on('exit', (code) => {
      clearTimeout(timer);
      r({ code, stdout, stderr });
    }),
  );
}

const doc = (id: string, entity = 'Orion Nebula'): { id: string; title: string; text: string; metadata: Record<string, unknown> } => ({
  id,
  title: `Doc ${id}`,
  text: `Document ${id} talks about ${entity} and #graphs.`,
  metadata: {},
});

test('empty Neo4j plus two Entity nodes of one name: commands connect, no entity write runs, repair fixes it', async () => {
  for (const id of ['a', 'b', 'c']) assert.equal((await app.writer.ingest(doc(id))).status, 'completed');
  await emptyNeo4j();
  // What the race leaves: one name, two nodes (no constraint to stop the second).
  await cypher("CREATE (:Entity {name: '#graphs'}), (:Entity {name: '#graphs'})");

  // A write of this process finds no schema marker, cannot create the constraint (duplicates):
  // refused, retryable, and nothing written.
  const v = await versionOf(doc('d'), 'a'.repeat(64));
  await assert.rejects(app.stores.neo4j.writeVersion(v, { sagaId: 'late', fencingToken: 1 }), (err: unknown) => {
    assert.ok(isStoreError(err) && err.retryable && err.code === 'STORE_TRANSIENT', String(err));
    assert.match(err.message, /schema missing.*apex_entity_name.*apex-memory repair/s);
    return true;
  });
  assert.equal(await entityCopies('#graphs'), 2, 'no entity write ran');
  assert.equal((await cypher("MATCH (d:Document {id: 'd'}) RETURN count(d) AS n"))[0]?.n, 0);

  // A fresh connection connects and its health names the problem (what `status` prints).
  const fresh = createNeo4jStore({ url: testServices().neo4jUrl });
  await fresh.connect();
  const health = await fresh.health();
  await fresh.close();
  assert.equal(health.ok, false);
  assert.match(health.detail, /schema incomplete.*apex_entity_name.*apex-memory repair/s);
  // A new process: verify connects and reports it (exit 1, no crash).
  const verify = await cli(['verify', '--json']);
  assert.equal(verify.code, 1, verify.stderr);
  const found = (JSON.parse(verify.stdout) as { violations: Array<{ kind: string; store: string; docId: string }> }).violations;
  const kinds = found.map((x) => `${x.kind}:${x.store}:${x.docId}`);
  assert.ok(kinds.includes('duplicate_node:neo4j:'), kinds.join(' '));
  assert.ok(kinds.includes('schema_missing:neo4j:'), kinds.join(' '));
  for (const id of ['a', 'b', 'c']) assert.ok(kinds.includes(`missing_version:neo4j:${id}`), kinds.join(' '));

  const repaired = await cli(['repair']);
  assert.equal(repaired.code, 0, repaired.stdout + repaired.stderr);
  assert.match(repaired.stdout, /merged 1 duplicate Entity node/);
  assert.equal(await entityCopies('#graphs'), 1);
  assert.ok((await cypher('SHOW CONSTRAINTS YIELD name')).some((r) => r.name === 'apex_entity_name'));
  // And this (long-running) process writes again: the marker is back.
  assert.equal((await app.writer.ingest(doc('d'))).status, 'completed');
  assert.equal(await entityCopies('#graphs'), 1);
  assert.deepEqual((await verifyStores(app.stores)).violations, []);
});

test('each derived store wiped with its schema during an ingest: the ingest goes on, repair brings verify to 0', async () => {
  const ids = Array.from({ length: 24 }, (_, i) => `w${String(i).padStart(2, '0')}`);
  let done = 0;
  const results: string[] = [];
  const wiped = (async () => {
    while (done < 6) await new Promise((r) => setTimeout(r, 20));
    await emptyNeo4j();
    const del = await fetch(`${testServices().qdrantUrl}/collections/apex_chunks`, { method: 'DELETE' });
    assert.ok(del.ok, `DELETE collection: HTTP ${del.status}`);
    const redis = new Redis(env.config.redisUrl ?? '');
    await redis.flushdb();
    redis.disconnect();
  })();
  const queue = [...ids];
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
        results.push((await app.writer.ingest(doc(id, `Entity ${Number(id.slice(1)) % 5}`))).status);
        done++;
      }
    }),
  );
  await wiped;
  assert.deepEqual(
    results.filter((s) => s !== 'completed'),
    [],
    'every document completed through the wipe',
  );

  const before = await verifyStores(app.stores);
  assert.ok(
    before.violations.some((x) => x.kind === 'missing_version' && x.store === 'neo4j'),
    'the wipe lost committed versions',
  );
  const report = await repairStores(app.stores, app.embedder, { dryRun: false });
  assert.deepEqual(report.after?.violations, []);
  assert.deepEqual(await app.stores.neo4j.checkSchema?.(), []);
  assert.deepEqual(await app.stores.qdrant.checkSchema?.(), []);
  const dups = await cypher('MATCH (e:Entity) WITH e.name AS name, count(*) AS n WHERE n > 1 RETURN name');
  assert.deepEqual(dups, []);
});

test("Neo4j emptied loses its fences: a stale owner's late write lands, readers never see it, repair removes it", async () => {
  assert.equal((await app.writer.ingest(doc('x'))).status, 'completed');
  const stale = await versionOf(doc('x', 'Stale Owner Entity'), 'b'.repeat(64));
  // The new owner (token 2) compensated the saga: its fence refuses the old owner (token 1).
  await app.stores.neo4j.removeVersion('x', stale.contentSha256, { sagaId: 'lost-owner', fencingToken: 2 });
  await assert.rejects(app.stores.neo4j.writeVersion(stale, { sagaId: 'lost-owner', fencingToken: 1 }), /STORE_FENCED|stale/);
  await emptyNeo4j();
  // The fence went with the database: the late write is no longer refused (documented limit).
  await app.stores.neo4j.writeVersion(stale, { sagaId: 'lost-owner', fencingToken: 1 });
  const read = await getDocument(app.stores, 'x');
  assert.notEqual(read?.contentSha256, stale.contentSha256, "readers follow PostgreSQL's committed version");
  const found = await verifyStores(app.stores);
  assert.ok(
    found.violations.some((x) => x.kind === 'stale_version' && x.store === 'neo4j' && x.docId === 'x'),
    JSON.stringify(found.violations),
  );
  const report = await repairStores(app.stores, app.embedder, { dryRun: false });
  assert.deepEqual(report.after?.violations, []);
  assert.equal(await entityCopies('Stale Owner Entity'), 0);
});
