// Issue 23, "a delete killed at every step, then resumed": a child process runs the delete of a
// document that carries unique tokens (text, title, metadata; several versions) and is SIGKILLed at
// one durable boundary of it (after the saga-log begin and each append, before and after each store
// write: erasure-crash-child.ts). Then the user's sequence: the same delete again, then
// `sagas recover` (what both commands run, in this process). At every point the erasure receipt is
// either "erased" with no token anywhere, or "not erased" -- never erased while a trace remains:
//   - right after the kill;
//   - after the re-run delete: erased (the re-run finishes the killed run's saga first);
//   - after recover: erased, receipt complete, no token in any live row of any store or the log
//     (and on the embedded profile, in no byte of the SQLite files, WAL included).
// Servers: every boundary. Embedded: the "after" boundaries, where its adapters (SQLite stand-ins
// with secure_delete and WAL truncation, PGlite) differ from the servers'; the saga is the same.
// CI runs 6 + 3 of them; RELIABILITY_SCALE > 1 runs all 14 + 7.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { checkErasure, type ErasureReceipt } from '../../src/ingest/erasure.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { found, sagaLogText, tokenDoc, tokensOf, VERSIONS } from '../support/erasure-scenario.js';
import { pgliteRows, serverTexts } from '../support/erasure-scans.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { reliabilityScale } from '../support/sim-results.js';

const CHILD = join(import.meta.dirname, 'erasure-crash-child.ts');

/** The delete's store writes, in the order the saga makes them (the middle three run in parallel). */
const WRITES = [
  'postgres.markDeleting',
  'redis.remove',
  'neo4j.removeDocument',
  'qdrant.removeDocument',
  'postgres.deleteDocument',
  'postgres.recordErasure',
];
/**
 * The servers' kill points: after the saga begins, before and after every store write, and after
 * the last append (the saga ended, the command had not returned). A kill right after a step's
 * append leaves the same durable state as one before the next write, so those are not repeated.
 */
const SERVER_POINTS = ['after log.begin', ...WRITES.flatMap((w) => [`before ${w}`, `after ${w}`]), 'after log.append#5'];
/** The embedded profile's: every step's write applied but not yet logged, and the two ends. */
const EMBEDDED_ALL = ['after log.begin', ...WRITES.slice(0, 5).map((w) => `after ${w}`), 'after log.append#5'];
// Each point costs a child process (seconds on a loaded machine): CI runs the points whose
// outcomes differ (re-run alone erases, or recover is needed; a SQLite WAL re-truncated; the saga
// ended); RELIABILITY_SCALE > 1 runs them all.
const ALL = reliabilityScale() > 1;
const SERVER_RUN = ALL
  ? SERVER_POINTS
  : [
      'after log.begin',
      'after postgres.markDeleting',
      'before neo4j.removeDocument',
      'after qdrant.removeDocument',
      'after postgres.deleteDocument',
      'after log.append#5',
    ];
const EMBEDDED_POINTS = ALL ? EMBEDDED_ALL : ['after log.begin', 'after neo4j.removeDocument', 'after postgres.deleteDocument'];

/** Runs the child until it reaches `at` (a boundary number, or the first boundary of that name), SIGKILLed there. */
function killAt(docId: string, tag: string, at: number | string, env: Record<string, string>): Promise<{ reached: string | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, docId, tag, String(at)], {
      env: { ...process.env, ...env },
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
      if (reached === null && !/DONE \w+/.test(out)) reject(new Error(`child failed (${code}): ${err.slice(-1500)}`));
      else resolve({ reached });
    });
  });
}

/** `sagas recover`: claims the dead owner's sagas and finishes them (src/cli/sagas-recover.ts). */
async function recover(app: App): Promise<void> {
  for (let round = 0; round < 20; round++) {
    const n = await app.engine.recover({ limit: 16 });
    await app.engine.idle();
    if (n === 0) return;
  }
}

const tracesOf = (r: ErasureReceipt): string[] => r.stores.flatMap((s) => (s.clean === true ? [] : [`${s.store}: ${s.traces.join('; ')}`]));

/**
 * The receipt never claims an erasure while a token is in a store or the log; a "not erased" one
 * names what remains. Returns whether it said erased.
 */
async function honest(what: string, r: ErasureReceipt, scan: () => Promise<string[]>): Promise<boolean> {
  if (r.erased) {
    assert.deepEqual(await scan(), [], `${what}: the receipt says erased, yet tokens remain`);
    assert.ok(r.deleteSaga?.sagaId && r.deleteSaga.completedAt, `${what}: an erased receipt names its completed delete saga`);
  } else assert.ok(tracesOf(r).length > 0, `${what}: not erased, and the receipt names no trace`);
  return r.erased;
}

interface Resume {
  label: string;
  docId: string;
  /** Runs the child to its kill point (null: it finished first). */
  run: () => Promise<{ reached: string | null }>;
  /** The app that resumes (the servers: this process's; embedded: opened on the data dir, closed after). */
  open: () => Promise<{ app: App; close: () => Promise<void> }>;
  /** The document's tokens found in any store or the log. */
  scan: (app: App) => Promise<string[]>;
  /** After the app is closed: the tokens found in files (embedded: the SQLite files' bytes). */
  filesScan: () => string[];
}

/** Kill, check, delete again, check, recover, check: one boundary. Returns the boundary's name. */
async function killAndResume(c: Resume): Promise<string | null> {
  const ms: number[] = [Date.now()];
  const lap = (): void => void ms.push(Date.now());
  const { reached } = await c.run();
  if (reached === null) return null;
  lap();
  const what = `${c.label}: killed at ${reached}`;
  const { app, close } = await c.open();
  lap();
  let killedErased = false;
  let rerunErased = false;
  try {
    const first = await checkErasure(app.stores, app.engine.log, c.docId);
    killedErased = await honest(`${what}, right after`, first, () => c.scan(app));
    // Killed before any removal: the scans find the document's tokens (so they can fail).
    if (reached.endsWith('after log.begin')) assert.ok((await c.scan(app)).length > 0, `${what}: the scan finds the live document`);
    // The user runs the same delete again: it finishes the dead run's saga on the document first.
    lap();
    const again = await app.writer.delete(c.docId);
    lap();
    assert.ok(again.status === 'completed' || again.action === 'absent', `${what}: re-run delete ${again.status}`);
    const afterDelete = await checkErasure(app.stores, app.engine.log, c.docId);
    rerunErased = await honest(`${what}, after the re-run delete`, afterDelete, () => c.scan(app));
    // The re-run finishes the killed run's saga on the document first (holder.ts settleEarlier),
    // held or not: no `sagas recover` is needed for the receipt to say erased.
    assert.equal(rerunErased, true, `${what}: not erased after the re-run delete: ${JSON.stringify(tracesOf(afterDelete))}`);
    lap();
    await recover(app);
    lap();
    const done = await checkErasure(app.stores, app.engine.log, c.docId);
    assert.equal(done.erased, true, `${what}: after recover: ${JSON.stringify(tracesOf(done))}`);
    assert.equal(done.stores.length, 5, 'the receipt covers the four stores and the saga log');
    assert.deepEqual(await c.scan(app), [], `${what}: tokens left after recover`);
    assert.deepEqual((await verifyStores(app.stores)).violations, [], what);
  } finally {
    await close();
  }
  assert.deepEqual(c.filesScan(), [], `${what}: tokens in the files`);
  lap();
  const laps = ms.slice(1).map((t, i) => t - (ms[i] ?? t));
  console.log(
    `${what}: receipt erased ${killedErased} right after, ${rerunErased} after the re-run delete, true after recover; ms child ${laps[0]}, open ${laps[1]}, check ${laps[2]}, delete ${laps[3]}, check ${laps[4]}, recover ${laps[5]}, checks ${laps[6]}`,
  );
  return reached;
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

test(
  'servers: a delete SIGKILLed at every boundary, then the same delete again and sagas recover, ends erased',
  { timeout: 300_000 },
  async () => {
    const env: RealStores = await realStores('erasure_crash', 7, { sagaLogOnPostgres: true });
    const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: 60_000 });
    const t0 = Date.now();
    const seen: string[] = [];
    try {
      for (const [at, point] of SERVER_RUN.entries()) {
        const docId = `erase-crash-srv-${String(at).padStart(2, '0')}`;
        const tag = randomBytes(6).toString('hex');
        const tokens = tokensOf(tag);
        for (let v = 0; v < VERSIONS; v++) assert.equal((await app.writer.ingest(tokenDoc(docId, tag, v))).status, 'completed');
        const scan = async (a: App): Promise<string[]> => {
          const texts = { ...(await serverTexts(env.databaseUrl, env.config)), log: await sagaLogText(a) };
          return Object.entries(texts).flatMap(([store, text]) => found(text, tokens).map((t) => `${store}: ${t}`));
        };
        const reached = await killAndResume({
          label: 'servers',
          docId,
          run: () => killAt(docId, tag, point, { CRASH_CONFIG: JSON.stringify(env.config) }),
          open: () => Promise.resolve({ app, close: () => Promise.resolve() }),
          scan,
          filesScan: () => [],
        });
        assert.equal(reached?.replace(/^\d+ /, ''), point.replace(/#\d+$/, ''), `the child reached ${point}`);
        seen.push(point);
      }
    } finally {
      await app.close();
      await env.close();
    }
    console.log(`servers: ${seen.length} boundaries SIGKILLed and resumed in ${Date.now() - t0} ms`);
  },
);

test(
  'embedded: a delete SIGKILLed after each step, then the same delete again and sagas recover, ends erased to the byte',
  { timeout: 300_000 },
  async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'apex-erasure-crash-'));
    const t0 = Date.now();
    const seen: string[] = [];
    const allTokens: string[] = [];
    for (const [i, point] of EMBEDDED_POINTS.entries()) {
      const docId = `erase-crash-emb-${i}`;
      const tag = randomBytes(6).toString('hex');
      const tokens = tokensOf(tag);
      allTokens.push(...tokens);
      const bytes = (): string[] =>
        files(dataDir)
          .filter((f) => !relative(dataDir, f).startsWith('postgres'))
          .flatMap((f) => found(readFileSync(f), tokens).map((t) => `${relative(dataDir, f)}: ${t}`));
      const reached = await killAndResume({
        label: 'embedded',
        docId,
        // The child ingests the versions itself (PGlite admits one process at a time).
        run: () => killAt(docId, tag, point, { CRASH_DATA_DIR: dataDir }),
        open: async () => {
          const app = await openApp({ env: {}, dataDir, embedder: new HashingEmbedder(), leaseMs: 60_000 });
          return { app, close: () => app.close() };
        },
        // The log, and the bytes of the SQLite files (the stand-ins, the saga log, WAL included).
        scan: async (app) => [...found(await sagaLogText(app), tokens).map((t) => `saga log: ${t}`), ...bytes()],
        filesScan: bytes,
      });
      assert.equal(reached?.replace(/^\d+ /, ''), point.replace(/#\d+$/, ''), `the child reached ${point}`);
      seen.push(point);
    }
    // PGlite's live rows (its files keep bytes until WAL recycling: docs/erasure.md), all documents at once.
    const rows = await pgliteRows(join(dataDir, 'postgres'));
    assert.ok(rows.includes('erase-crash-emb-0'), 'the row scan reads the tables (the write fences name the document)');
    assert.deepEqual(found(rows, allTokens), [], 'a live PGlite row holds a deleted token');
    console.log(`embedded: ${seen.length} boundaries SIGKILLed and resumed in ${Date.now() - t0} ms`);
  },
);
