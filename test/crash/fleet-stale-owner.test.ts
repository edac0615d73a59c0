// A stale owner: worker A is paused (SIGSTOP) in the middle of its sagas for longer than its
// lease; worker B takes them over and finishes them; then A is resumed (SIGCONT). A must be
// refused everywhere it tries to go on with its old tokens (the saga log answers SAGA_FENCED, the
// PostgreSQL store STORE_FENCED), write nothing more with them, and drop those sagas. The stores
// end consistent (verify clean) and every saga is completed or compensated. A's lease renewals are
// slowed (a slow link to the log), else its heartbeat notices first and PostgreSQL's fence is
// never tested.
//
// APEX_FLEET_STALE_STORE=neo4j (or qdrant) pauses A inside that store's writes instead. Those
// stores take no fencing token, so A's late write lands after B's compensation and verify reports
// orphan data: a known gap, reproduced on purpose by that setting (see docs/fleet.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { submitIngest } from '../../src/fleet/submit.js';
import { realStores } from '../support/real-stores.js';
import { LogProbe, makeDoc, readIntervals, sleep, spawnWorker, type WorkerChild } from '../fleet/harness.js';

const N = 40;
const LEASE_MS = 2_000;
const STALE_STORE = process.env.APEX_FLEET_STALE_STORE ?? 'postgres';

async function until(what: string, deadlineMs: number, check: () => Promise<boolean>): Promise<void> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > deadlineMs) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

test('fleet: a worker paused past its lease is fenced out of the log and PostgreSQL and drops the sagas taken from it', { timeout: 120_000 }, async () => {
  const env = await realStores('fleet_stale', 12, { sagaLogOnPostgres: true });
  const dir = mkdtempSync(join(tmpdir(), 'apex-fleet-stale-'));
  const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: LEASE_MS });
  const probe = LogProbe.open(env.databaseUrl);
  const workers: WorkerChild[] = [];
  const worker = (name: string, extra: Record<string, string>): WorkerChild => {
    const w = spawnWorker({
      APEX_FLEET_CONFIG: JSON.stringify(env.config),
      APEX_FLEET_LEASE_MS: String(LEASE_MS),
      APEX_FLEET_CONCURRENCY: '8',
      APEX_FLEET_CALLS: join(dir, `calls-${name}.txt`),
      ...extra,
    });
    workers.push(w);
    return w;
  };
  try {
    // A's PostgreSQL writes each wait 400 ms first, so the pause lands inside its steps; its lease
    // renewals take 800 ms (a slow link to the log), so once resumed its pending writes reach
    // PostgreSQL before its heartbeat can tell it the leases are gone: the store's fence must hold.
    const a = worker('a', { APEX_FLEET_DELAY_MS: '400', APEX_FLEET_DELAY_STORE: STALE_STORE, APEX_FLEET_RENEW_DELAY_MS: '800' });
    const ownerA = await a.owner;
    for (let i = 0; i < N; i++) assert.equal((await submitIngest(app, makeDoc('stale', i))).queued, true);
    await until(`A to hold 8 running sagas with ${STALE_STORE} writes in flight`, 20_000, async () => (await probe.heldBy(ownerA)).size >= 8);
    await sleep(150);
    a.proc.kill('SIGSTOP');
    const pausedAt = Date.now();
    const held = await probe.heldBy(ownerA);
    console.log(`A (${a.pid}) paused holding ${held.size} saga(s)`);

    const b = worker('b', {});
    const ownerB = await b.owner;
    await until(`B to take over and finish all ${N} sagas`, 40_000, async () => {
      const c = await probe.statusCounts();
      return (c.completed ?? 0) + (c.compensated ?? 0) + (c.stuck ?? 0) === N;
    });
    const rows = await probe.state([...held.keys()]);
    assert.ok(rows.every((r) => r.owner === ownerB), 'B owns every saga A held');
    console.log(`B finished everything ${Date.now() - pausedAt} ms after the pause`);

    a.proc.kill('SIGCONT');
    const resumedAt = Date.now();
    await sleep(LEASE_MS + 1_000); // A's timers fire, its calls and appends meet the fences
    for (const w of workers) w.proc.kill('SIGTERM');
    const exits = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(exits.map((e) => e.code), [0, 0], 'both workers stop gracefully');

    const lines = a.lines;
    const refused = (prefix: string): Set<string> => new Set(lines.filter((l) => l.startsWith(prefix)).map((l) => l.split(' ')[1] ?? ''));
    const appendFenced = refused('APPEND_FENCED ');
    const storeFenced = refused('STORE_FENCED ');
    const dropped = refused('FENCED ');
    console.log(`A after resume: ${appendFenced.size} append(s) refused SAGA_FENCED, ${storeFenced.size} PostgreSQL write(s) refused STORE_FENCED, ${dropped.size} saga(s) dropped`);
    // What A did after it resumed, on the sagas B took: no PostgreSQL write succeeded, and no
    // new store call started once it had noticed (one heartbeat period plus slack).
    const callsA = readIntervals([{ path: join(dir, 'calls-a.txt'), pid: a.pid }]).filter((c) => held.has(c.saga));
    const late = callsA.filter((c) => c.end >= resumedAt);
    console.log(`A calls on taken sagas ending after resume: ${late.map((c) => `${c.store}.${c.method}=${c.outcome}`).join(', ') || 'none'}`);
    assert.ok(appendFenced.size + dropped.size > 0, 'A learned that its sagas were taken');
    if (STALE_STORE === 'postgres') assert.ok(storeFenced.size > 0, 'A tried to write PostgreSQL with an old token and was refused (STORE_FENCED)');
    for (const id of [...appendFenced, ...storeFenced, ...dropped]) assert.ok(held.has(id), `A was refused only on sagas it held (${id})`);
    for (const id of held.keys()) assert.ok(!lines.some((l) => l === `OWNER ${id}`));
    const stopped = lines.find((l) => l.startsWith('STOPPED '));
    assert.ok(stopped, 'A reported its counts');
    const countsA = JSON.parse(stopped.slice(8)) as { completed: number; compensated: number };

    assert.deepEqual(late.filter((c) => c.store === 'postgres' && c.outcome === 'ok'), [], 'no PostgreSQL write of A succeeded after it resumed');
    const startedLate = callsA.filter((c) => c.start >= resumedAt + LEASE_MS);
    assert.deepEqual(startedLate, [], 'A started no store call on those sagas after it noticed');

    const c = await probe.statusCounts();
    assert.equal((c.completed ?? 0) + (c.compensated ?? 0), N, `every saga completed or compensated: ${JSON.stringify(c)}`);
    assert.ok(countsA.completed + countsA.compensated <= N - held.size, 'A finished none of the sagas taken from it');
    assert.deepEqual(await probe.doubleCompensations(), [], 'no compensation recorded twice');
    const report = await verifyStores(app.stores);
    assert.deepEqual(report.violations, [], 'verify reports no violation');
  } finally {
    for (const w of workers) {
      if (w.proc.exitCode === null && w.proc.signalCode === null) {
        w.proc.kill('SIGCONT');
        w.proc.kill('SIGKILL');
      }
    }
    await probe.close();
    await app.close();
    await env.close();
  }
});
