// The SIGKILL plan of the reindex crash tests (test/crash/reindex-crash*.test.ts): seeded kill
// points of `apex-memory reindex` runs. A point is right after the start transition (before the
// loop), a pass's first progress line (sagas starting: no document done yet), some milliseconds
// into a pass, or the moment the saga log shows a reindex saga running (in flight for sure: one run
// of every plan is killed so). The delays are wall time, so a seed replays the plan, not the exact
// instant. (Progress lines come once a second: waiting for "N done" lines, the first version of the
// servers test, often saw the run end first on a quiet machine.)
import assert from 'node:assert/strict';
import type { SagaLog, SagaLogQueries } from '../../src/saga/index.js';
import { spawnCli } from './cli-async.js';

export type Kill = { at: 'start' } | { at: 'pass'; delayMs: number } | { at: 'saga' };

/** The test's own view of the saga log the CLI runs write (read only by the test). */
export type KillLog = Pick<SagaLogQueries, 'list'> & Pick<SagaLog, 'load'>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const UNENDED = ['running', 'compensating'] as const;

/** `runs` kill points; one run, chosen by the seed, is killed with a reindex saga in flight. */
export function killPlan(random: () => number, runs: number): Kill[] {
  const inFlight = Math.floor(random() * runs);
  return Array.from({ length: runs }, (_, k): Kill => {
    if (k === inFlight) return { at: 'saga' };
    const r = random();
    if (r < 0.3) return { at: 'start' };
    return { at: 'pass', delayMs: r < 0.6 ? 0 : Math.floor(random() * 300) };
  });
}

/**
 * Runs the CLI with `args` and SIGKILLs it at `kill`; a run that ends first must exit 0. Returns
 * whether it was killed and the reindex sagas the kill left unended (read from the log once the
 * process is gone): the next run must take them over.
 */
export async function killedRun(
  args: string[],
  env: Record<string, string>,
  kill: Kill,
  log: KillLog,
  label: string,
): Promise<{ killed: boolean; left: string[] }> {
  const t0 = performance.now();
  const run = spawnCli(args, env);
  let ended = false;
  void run.exited.then(() => (ended = true));
  try {
    await run.waitFor(kill.at === 'start' ? /reindex: .* -> .*dual writes on/ : /reindex pass \d+: /, 120_000);
    if (kill.at === 'pass' && kill.delayMs > 0) await sleep(kill.delayMs);
    if (kill.at === 'saga') {
      while (!ended && (await log.list({ name: 'reindex', status: 'running' }, { limit: 1 })).sagas.length === 0) await sleep(5);
    }
    run.child.kill('SIGKILL');
  } catch {
    // It finished before the kill point: nothing left to kill.
  }
  const end = await run.exited;
  const killed = end.code === null;
  const left = killed ? (await log.list({ name: 'reindex', status: UNENDED }, { limit: 1_000 })).sagas.map((s) => s.sagaId) : [];
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const what = killed ? `SIGKILLed, ${left.length} reindex saga(s) left unended` : `exited ${String(end.code)}`;
  console.log(`  ${label}: ${JSON.stringify(kill)}: ${what} (${secs} s)`);
  if (!killed) assert.equal(end.code, 0, `${end.stdout}\n${end.stderr}`);
  return { killed, left };
}

/**
 * Runs `cmd` killed at each point of `plan`; returns the sagas the kills left unended and whether
 * the in-flight kill happened (the run may have had nothing left to do).
 */
export async function killedRuns(
  cmd: string[],
  env: Record<string, string>,
  plan: readonly Kill[],
  log: KillLog,
  label: string,
): Promise<{ left: Set<string>; inFlightKilled: boolean }> {
  const left = new Set<string>();
  let inFlightKilled = false;
  for (const [k, kill] of plan.entries()) {
    const r = await killedRun(cmd, env, kill, log, `${label} ${k + 1}`);
    r.left.forEach((id) => left.add(id));
    if (kill.at === 'saga' && r.killed) inFlightKilled = true;
  }
  return { left, inFlightKilled };
}

/**
 * The sagas killed runs left unended were taken over (their fencing token raised) and ended; and
 * when the plan's in-flight kill happened, it left at least one (the test killed what it meant to).
 */
export async function assertTakenOver(log: KillLog, left: ReadonlySet<string>, inFlightKilled: boolean): Promise<void> {
  for (const id of left) {
    const s = await log.load(id);
    assert.ok(s && (s.status === 'completed' || s.status === 'compensated'), `saga ${id} left by a kill ended (${s?.status ?? 'absent'})`);
    assert.ok(s.fencingToken > 1, `saga ${id} left by a kill was taken over`);
  }
  if (inFlightKilled) assert.ok(left.size > 0, 'the kill with a reindex saga running left it unended');
  console.log(`reindex sagas left unended by the kills, taken over and ended since: ${left.size}`);
}
