// The crash matrix of the write path on the real servers: for every durable boundary of one
// write — after each saga-log append, before and after each store write, in forward steps and in
// compensations — a child process is SIGKILLed exactly there, and a new owner (this process)
// recovers it. Expected (forward resume): the saga ends completed, or compensated when a step
// really failed; verify reports 0; the document is wholly the new version, or wholly the old one
// (or absent), never partly visible. Scenarios: ingest of a new document (default plan, PostgreSQL
// log), update (default plan, SQLite log), update on the seed's plan `adr` (SQLite log), delete
// (PostgreSQL log), an ingest whose Qdrant write fails permanently (compensation boundaries).
// CI kills at every other boundary of each scenario, from a seeded start (the 1st or the 2nd), to
// halve its time: each boundary is killed in half the runs, and of a store write's "before" and
// "after" (neighbours) one is always killed; RELIABILITY_SCALE>1 or MATRIX_ALL=1 kills at each one.
// Replay with MATRIX_SEED=<seed> (printed).
// run-tests: early
// (no timed bound: it runs while the group's "beside" files load the machine.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { allSagas } from '../support/log-pages.js';
import { reliabilityScale } from '../support/sim-results.js';
import { seededRandom } from '../../src/saga/index.js';

const CHILD = join(import.meta.dirname, 'ingest-crash-child.ts');
/** Kill at every STRIDE-th boundary (see the top). */
const STRIDE = reliabilityScale() > 1 || process.env.MATRIX_ALL === '1' ? 1 : 2;
const SEED = Number(process.env.MATRIX_SEED ?? Math.floor(Math.random() * 1e9));
const V1 = 'Version one of the document, about Redis Cluster and Project Atlas.';
const V2 = 'Version two of the document: Neo4j Graph meets Qdrant Vector at PostgreSQL Row.';

interface Scenario {
  name: string;
  op: 'ingest' | 'delete';
  /** The document's committed content before the write (null: absent). */
  before: string | null;
  text: string;
  plan: 'default' | 'adr';
  logOnPostgres: boolean;
  fail?: 'qdrant';
}

const SCENARIOS: Scenario[] = [
  { name: 'ingest, default plan, PostgreSQL log', op: 'ingest', before: null, text: V1, plan: 'default', logOnPostgres: true },
  { name: 'update, default plan, SQLite log', op: 'ingest', before: V1, text: V2, plan: 'default', logOnPostgres: false },
  { name: 'update, plan adr, SQLite log', op: 'ingest', before: V1, text: V2, plan: 'adr', logOnPostgres: false },
  { name: 'delete, PostgreSQL log', op: 'delete', before: V1, text: '', plan: 'default', logOnPostgres: true },
  {
    name: 'update whose Qdrant write fails for good (compensations), PostgreSQL log',
    op: 'ingest',
    before: V1,
    text: V2,
    plan: 'default',
    logOnPostgres: true,
    fail: 'qdrant',
  },
];

function runChild(env: RealStores, s: Scenario, docId: string, at: number): Promise<{ reached: string | null; done: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, s.op, docId, s.text, String(at), s.plan], {
      env: { ...process.env, CRASH_CONFIG: JSON.stringify(env.config), ...(s.fail ? { CRASH_FAIL: s.fail } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let reached: string | null = null;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /REACHED (\d+ .*)\n/.exec(out);
      if (m && reached === null) {
        reached = m[1] ?? '';
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('close', (code) => {
      const done = /DONE (\w+)/.exec(out)?.[1] ?? null;
      if (reached === null && done === null) reject(new Error(`child failed (${code}): ${err.slice(-1500)}`));
      else resolve({ reached, done });
    });
  });
}

const titleOf = (docId: string) => `Crash ${docId}`;
const shaOf = (docId: string, text: string) => contentSha256({ title: titleOf(docId), text, metadata: {} });

async function recoverAll(app: App): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const n = await app.engine.recover({ limit: 16 });
    await app.engine.idle();
    if (n === 0 && (await app.profile.log.count({ status: 'running' })) + (await app.profile.log.count({ status: 'compensating' })) === 0)
      return;
    if (n === 0) await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * verify's invariant for one document (the scenarios run at once on shared Neo4j, Qdrant and
 * Redis, so a whole-store verify would see the other scenarios' writes in flight).
 */
async function violationsOf(app: App, docId: string): Promise<string[]> {
  const out: string[] = [];
  const { postgres, neo4j, qdrant, redis } = app.stores;
  const row = await postgres.getDocument(docId);
  const committed = row?.ingestionStatus === 'committed' ? row.contentSha256 : null;
  if (row && (row.ingestionStatus === 'pending' || row.ingestionStatus === 'deleting')) out.push(`postgres row '${row.ingestionStatus}'`);
  if ((await postgres.getPendingVersions(docId)).length > 0) out.push('in-flight version left in postgres');
  const holder = await postgres.holderOf(docId);
  if (holder !== undefined) out.push(`held by ${holder}`);
  const chunks = committed === null ? 0 : (await postgres.getChunks(docId, committed)).length;
  for (const store of [neo4j, qdrant]) {
    const versions = await store.listVersions(docId);
    const want = committed === null ? [] : [{ docId, contentSha256: committed, chunkCount: chunks }];
    if (JSON.stringify(versions) !== JSON.stringify(want))
      out.push(`${store.name} holds ${JSON.stringify(versions)}, want ${JSON.stringify(want)}`);
  }
  const cached = await redis.get(docId);
  if (cached && cached.contentSha256 !== committed) out.push(`redis caches ${cached.contentSha256}`);
  return out;
}

async function runScenario(i: number, s: Scenario, env: RealStores, first: number): Promise<string[]> {
  const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: 60_000 });
  const seen: string[] = [];
  try {
    for (let at = first; at < 200; at += STRIDE) {
      const docId = `crash-${i}-${String(at).padStart(3, '0')}`;
      if (s.before !== null)
        assert.equal((await app.writer.ingest({ id: docId, title: titleOf(docId), text: s.before, metadata: {} })).status, 'completed');
      const r = await runChild(env, s, docId, at);
      if (r.reached === null) {
        assert.ok(at > 5, `${s.name}: the write finished before boundary ${at}: too few boundaries counted`);
        break;
      }
      seen.push(r.reached);
      await recoverAll(app);
      const sagas = await allSagas(app.profile.log);
      const open = sagas.filter((x) => x.status !== 'completed' && x.status !== 'compensated');
      assert.deepEqual(
        open.map((x) => `${x.sagaId} ${x.status}`),
        [],
        `${s.name}: killed at ${r.reached}`,
      );
      const row = await app.stores.postgres.getDocument(docId);
      const committed = row?.ingestionStatus === 'committed' ? row.contentSha256 : null;
      const oldSha = s.before === null ? null : shaOf(docId, s.before);
      const newSha = s.op === 'delete' ? null : shaOf(docId, s.text);
      // Without a failure the write completes (forward resume); with one, old or new, never a mix.
      const allowed = s.fail ? [oldSha, newSha] : [newSha];
      assert.ok(allowed.includes(committed), `${s.name}: killed at ${r.reached}: committed ${String(committed)}`);
      assert.deepEqual(await violationsOf(app, docId), [], `${s.name}: killed at ${r.reached}`);
    }
    return seen;
  } finally {
    await app.close();
  }
}

const which = STRIDE === 1 ? 'every boundary' : 'every other boundary (seeded)';

void describe('crash matrix: SIGKILL at every durable boundary of a write, then recovery', () => {
  void it(`every scenario, ${which} (scenarios run side by side)`, { timeout: 600_000 }, async () => {
    console.log(`crash matrix: ${which}, MATRIX_SEED=${SEED} (replay: MATRIX_SEED=${SEED}; every boundary: MATRIX_ALL=1)`);
    const random = seededRandom(SEED);
    const firsts = SCENARIOS.map(() => 1 + Math.floor(random() * STRIDE));
    // Set-ups one after the other (each empties the shared Neo4j, Qdrant and Redis), then the runs at once.
    const envs: RealStores[] = [];
    for (const [i, s] of SCENARIOS.entries()) envs.push(await realStores(`crash_matrix_${i}`, 5, { sagaLogOnPostgres: s.logOnPostgres }));
    try {
      const results = await Promise.all(SCENARIOS.map((s, i) => runScenario(i, s, envs[i] as RealStores, firsts[i] ?? 1)));
      for (const [i, seen] of results.entries()) {
        const s = SCENARIOS[i] as Scenario;
        console.log(`${s.name}: ${seen.length} boundaries from the ${firsts[i] ?? 1}. on, each SIGKILLed and recovered`);
        assert.ok(
          seen.some((b) => b.includes('log.append')),
          `${s.name}: log boundaries counted`,
        );
        if (s.fail)
          assert.ok(
            seen.some((b) => /removeVersion|discardPending/.test(b)),
            `compensation boundaries reached: ${seen.join(', ')}`,
          );
      }
      console.log(`crash matrix: ${results.reduce((n, r) => n + r.length, 0)} SIGKILLs in all`);
    } finally {
      for (const env of envs) await env.close();
    }
  });
});
