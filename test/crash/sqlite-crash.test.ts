// Crash test: a child process runs sagas on the SQLite saga log and is killed with SIGKILL at a
// chosen point (before and after every step's effect, during a compensation, or at a random moment
// under load). A new process recovers at once (the dead owner's pid is gone: no lease wait), and
// every saga must reach the right final state with exactly the right effects: an interrupted saga
// resumes and completes; a saga whose step really failed compensates exactly the started steps,
// an interrupted compensation run again, never skipped. A poison step (it kills its own process
// every time) ends stuck RECOVERY_LIMIT after N recoveries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import type { StoredSaga } from '../../src/saga/index.js';
import { allSagas } from '../support/log-pages.js';

const CHILD = join(import.meta.dirname, 'crash-child.ts');
const ALL = ['a', 'b', 'c', 'p', 'r'];
const COMPENSATABLE = new Set(['a', 'b', 'c']);

function child(
  args: string[],
  env: Record<string, string> = {},
): {
  proc: ChildProcess;
  lines: string[];
  waitFor: (pred: (l: string[]) => boolean, ms: number) => Promise<void>;
  exited: Promise<number | null>;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  let buf = '';
  const waiters: Array<() => void> = [];
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters) w();
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const waitFor = (pred: (l: string[]) => boolean, ms: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not get there in ${ms} ms; saw: ${lines.join(' | ')}`)), ms);
      const check = (): void => {
        if (pred(lines)) {
          clearTimeout(timer);
          resolve();
        }
      };
      waiters.push(check);
      check();
    });
  return { proc, lines, waitFor, exited };
}

async function crashAndRecover(
  scenario: string,
  n: number,
  kill: (c: ReturnType<typeof child>) => Promise<void>,
  env: Record<string, string> = {},
): Promise<{ sagas: StoredSaga[]; fx: Database.Database }> {
  const dir = mkdtempSync(join(tmpdir(), 'apex-crash-'));
  const logPath = join(dir, 'log.db');
  const fxPath = join(dir, 'effects.db');
  const first = child(['run', logPath, fxPath, scenario, String(n)], env);
  await kill(first);
  first.proc.kill('SIGKILL');
  assert.equal(await first.exited, null, 'the first process was killed, it did not exit');
  assert.ok(!first.lines.includes('ALL DONE'), 'killed before the sagas finished');

  const t0 = Date.now();
  const second = child(['recover', logPath, fxPath], env);
  assert.equal(await second.exited, 0, `recovery exits cleanly; saw ${second.lines.join(' | ')}`);
  // The killed owner's lease is 60 s: finishing well inside it proves the crash-fast takeover.
  assert.ok(Date.now() - t0 < 30_000, `recovered without waiting out the lease (${Date.now() - t0} ms)`);
  const log = new SqliteSagaLog(logPath);
  const summaries = await allSagas(log);
  const sagas: StoredSaga[] = [];
  for (const s of summaries) {
    const stored = await log.load(s.sagaId);
    if (stored) sagas.push(stored);
  }
  await log.close();
  return { sagas, fx: new Database(fxPath, { readonly: true }) };
}

/** The invariants every recovered saga must satisfy, whatever the kill point. */
function checkInvariants(sagas: StoredSaga[], fx: Database.Database): void {
  for (const s of sagas) {
    assert.ok(s.status === 'completed' || s.status === 'compensated', `${s.sagaId} ended ${s.status}`);
    const effects = (fx.prepare('SELECT step FROM effects WHERE saga = ? ORDER BY step').pluck().all(s.sagaId) as string[]).sort();
    if (s.status === 'completed') assert.deepEqual(effects, ALL, `${s.sagaId}: all effects applied`);
    else assert.deepEqual(effects, [], `${s.sagaId}: no effect left after compensation`);

    const started = [...new Set(s.records.flatMap((r) => (r.type === 'step_started' ? [r.step] : [])))];
    const compensated = s.records.flatMap((r) => (r.type === 'compensation_succeeded' ? [r.step] : []));
    assert.equal(new Set(compensated).size, compensated.length, `${s.sagaId}: no compensation recorded twice`);
    if (s.status === 'compensated') {
      const expected = started.filter((x) => COMPENSATABLE.has(x)).reverse();
      assert.deepEqual(compensated, expected, `${s.sagaId}: exactly the started steps, in reverse start order`);
    } else {
      assert.deepEqual(compensated, [], `${s.sagaId}: a completed saga compensates nothing`);
    }
  }
}

// Every durable boundary of the forward path: before a step's effect (its step_started is durable)
// and after it (its outcome is not yet). Each ends completed: the step in doubt runs again.
const scenarios: Array<{ point: string; expect: 'completed' | 'compensated' }> = [
  ...ALL.flatMap((s) => [`before:${s}`, `after:${s}`]).map((point) => ({ point, expect: 'completed' as const })),
  { point: 'comp:b', expect: 'compensated' }, // c really failed; the kill lands mid-compensation
];

for (const { point, expect } of scenarios) {
  test(`SIGKILL at ${point}: a new process brings every saga to ${expect}`, async () => {
    const n = 3;
    const { sagas, fx } = await crashAndRecover(point, n, (c) =>
      c.waitFor((l) => l.filter((x) => x.startsWith('REACHED')).length === n, 30_000),
    );
    assert.equal(sagas.length, n);
    checkInvariants(sagas, fx);
    for (const s of sagas) assert.equal(s.status, expect, s.sagaId);
    if (point === 'comp:b') {
      for (const s of sagas) {
        const comps = fx.prepare("SELECT step, pid FROM calls WHERE saga = ? AND kind = 'comp'").all(s.sagaId) as Array<{
          step: string;
          pid: number;
        }>;
        const b = comps.filter((x) => x.step === 'b');
        assert.equal(b.length, 2, 'the interrupted compensation ran again in the new process');
        assert.notEqual(b[0]?.pid, b[1]?.pid);
        assert.equal(comps.filter((x) => x.step === 'c').length, 1, 'a finished compensation is not run again');
      }
    }
    if (point.startsWith('after:') || point.startsWith('before:')) {
      const step = point.split(':')[1] ?? '';
      for (const s of sagas) {
        const runs = fx.prepare("SELECT count(*) FROM calls WHERE saga = ? AND step = ? AND kind = 'run'").pluck().get(s.sagaId, step);
        assert.equal(runs, 2, `the step in doubt (${step}) was run again, idempotently`);
      }
    }
    fx.close();
  });
}

test('SIGKILL at a random moment under load: every saga ends consistent', async () => {
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1e9));
  console.log(`crash test: CRASH_SEED=${seed} (replay: CRASH_SEED=${seed})`);
  const n = 200;
  const { sagas, fx } = await crashAndRecover(
    'load',
    n,
    async (c) => {
      // Kill once the child is busy: after a seeded number of finished sagas (the children's step
      // jitter is seeded too), so the kill lands among sagas in flight.
      const after = 1 + (seed % 20);
      await c.waitFor((l) => l.filter((x) => x.startsWith('DONE')).length >= after, 30_000);
    },
    { CRASH_SEED: String(seed) },
  );
  assert.equal(sagas.length, n, 'every saga was begun before the kill');
  checkInvariants(sagas, fx);
  const statuses = new Set(sagas.map((s) => s.status));
  assert.ok(statuses.has('compensated') && statuses.has('completed'), 'both outcomes occur');
  fx.close();
});

test('a step that kills its own process every time ends stuck RECOVERY_LIMIT after N recoveries', async () => {
  const limit = 2;
  const dir = mkdtempSync(join(tmpdir(), 'apex-poison-'));
  const logPath = join(dir, 'log.db');
  const fxPath = join(dir, 'effects.db');
  const env = { CRASH_RECOVERY_LIMIT: String(limit) };
  const first = child(['run', logPath, fxPath, 'poison', '1'], env);
  assert.equal(await first.exited, null, 'the poison step killed the first process');
  let deaths = 0;
  for (;;) {
    const next = child(['recover', logPath, fxPath, 'poison'], env);
    const code = await next.exited;
    if (code === 0) break;
    deaths++;
    assert.ok(deaths <= limit, `recovery kept dying past the limit (${deaths})`);
  }
  assert.equal(deaths, limit, 'each of the N recoveries ran the step once more (and died)');
  const log = new SqliteSagaLog(logPath);
  const [saga] = await allSagas(log);
  assert.deepEqual([saga?.status, saga?.reason?.code], ['stuck', 'RECOVERY_LIMIT']);
  await log.close();
  const fx = new Database(fxPath, { readonly: true });
  assert.equal(fx.prepare("SELECT count(*) FROM calls WHERE step = 'a' AND kind = 'run'").pluck().get(), 1 + limit);
  fx.close();
});
