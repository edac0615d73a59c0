// Crash test: a child process runs sagas on the SQLite saga log and is killed with SIGKILL at a
// chosen point (before/after a step's effect, after the pivot, during a compensation, or at a
// random moment under load). A new process recovers, and every saga must reach the right final
// state with exactly the right effects: compensations for exactly the started steps, and an
// interrupted compensation run again, never skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteSagaLog } from '../../src/log/sqlite.js';
import type { StoredSaga } from '../../src/saga/index.js';

const CHILD = join(import.meta.dirname, 'crash-child.ts');
const ALL = ['a', 'b', 'c', 'p', 'r'];
const COMPENSATABLE = new Set(['a', 'b', 'c']);

function child(args: string[]): { proc: ChildProcess; lines: string[]; waitFor: (pred: (l: string[]) => boolean, ms: number) => Promise<void>; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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

async function crashAndRecover(scenario: string, n: number, kill: (c: ReturnType<typeof child>) => Promise<void>): Promise<{ sagas: StoredSaga[]; fx: Database.Database }> {
  const dir = mkdtempSync(join(tmpdir(), 'apex-crash-'));
  const logPath = join(dir, 'log.db');
  const fxPath = join(dir, 'effects.db');
  const first = child(['run', logPath, fxPath, scenario, String(n)]);
  await kill(first);
  first.proc.kill('SIGKILL');
  assert.equal(await first.exited, null, 'the first process was killed, it did not exit');
  assert.ok(!first.lines.includes('ALL DONE'), 'killed before the sagas finished');

  const second = child(['recover', logPath, fxPath]);
  assert.equal(await second.exited, 0, `recovery exits cleanly; saw ${second.lines.join(' | ')}`);
  const log = new SqliteSagaLog(logPath);
  const summaries = await log.list();
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

const scenarios: Array<{ point: string; expect: 'completed' | 'compensated' }> = [
  { point: 'before:a', expect: 'compensated' },
  { point: 'after:b', expect: 'compensated' },
  { point: 'after:p', expect: 'completed' },
  { point: 'before:r', expect: 'completed' },
  { point: 'comp:b', expect: 'compensated' },
];

for (const { point, expect } of scenarios) {
  test(`SIGKILL at ${point}: a new process brings every saga to ${expect}`, async () => {
    const n = 3;
    const { sagas, fx } = await crashAndRecover(point, n, (c) => c.waitFor((l) => l.filter((x) => x.startsWith('REACHED')).length === n, 30_000));
    assert.equal(sagas.length, n);
    checkInvariants(sagas, fx);
    for (const s of sagas) assert.equal(s.status, expect, s.sagaId);
    if (point === 'comp:b') {
      for (const s of sagas) {
        const comps = fx.prepare("SELECT step, pid FROM calls WHERE saga = ? AND kind = 'comp'").all(s.sagaId) as Array<{ step: string; pid: number }>;
        const b = comps.filter((x) => x.step === 'b');
        assert.equal(b.length, 2, 'the interrupted compensation ran again in the new process');
        assert.notEqual(b[0]?.pid, b[1]?.pid);
        assert.equal(comps.filter((x) => x.step === 'c').length, 1, 'a finished compensation is not run again');
      }
    }
    if (point === 'after:p') {
      for (const s of sagas) {
        const runs = fx.prepare("SELECT count(*) FROM calls WHERE saga = ? AND step = 'p' AND kind = 'run'").pluck().get(s.sagaId);
        assert.equal(runs, 2, 'the pivot in doubt was run again (idempotently)');
      }
    }
    fx.close();
  });
}

test('SIGKILL at a random moment under load: every saga ends consistent', async () => {
  const seed = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 1e9));
  console.log(`crash test: CRASH_SEED=${seed}`);
  const n = 200;
  const { sagas, fx } = await crashAndRecover('load', n, async (c) => {
    // Kill once the child is busy: after its first finished saga plus a seeded delay.
    await c.waitFor((l) => l.some((x) => x.startsWith('DONE')), 30_000);
    await new Promise((r) => setTimeout(r, seed % 40));
  });
  assert.equal(sagas.length, n, 'every saga was begun before the kill');
  checkInvariants(sagas, fx);
  const statuses = new Set(sagas.map((s) => s.status));
  assert.ok(statuses.has('compensated') && statuses.has('completed'), 'both outcomes occur');
  fx.close();
});
