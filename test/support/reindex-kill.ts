// The SIGKILL plan of the reindex crash tests (test/crash/reindex-crash*.test.ts): seeded kill
// points of `apex-memory reindex` runs, read from the child's own output. A point is right after
// the start transition (before the loop), a pass's first progress line (sagas starting: no document
// done yet), or some milliseconds into a pass (sagas in flight). The delays are wall time, so a
// seed replays the plan, not the exact instant. Progress lines come once a second, so waiting for
// "N done" lines (the first version of the servers test) often saw the run end first on a quiet
// machine: a delay after the pass's first line lands inside the pass at any speed.
import assert from 'node:assert/strict';
import type { SagaLogQueries } from '../../src/saga/index.js';
import { spawnCli } from './cli-async.js';

export type Kill = { at: 'start' } | { at: 'pass'; delayMs: number };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `runs` kill points; one run, chosen by the seed, is killed 30-150 ms into its pass. */
export function killPlan(random: () => number, runs: number): Kill[] {
  const inFlight = Math.floor(random() * runs);
  return Array.from({ length: runs }, (_, k): Kill => {
    if (k === inFlight) return { at: 'pass', delayMs: 30 + Math.floor(random() * 120) };
    const r = random();
    if (r < 0.3) return { at: 'start' };
    return { at: 'pass', delayMs: r < 0.6 ? 0 : Math.floor(random() * 300) };
  });
}

/**
 * Runs the CLI with `args` and SIGKILLs it at `kill`; a run that ends first must exit 0. Returns
 * whether the kill came some milliseconds into a pass that still had documents to do: sagas in
 * flight (barring the few milliseconds between two sagas of a worker), which the next run must
 * take over.
 */
export async function killedRun(args: string[], env: Record<string, string>, kill: Kill, label: string): Promise<boolean> {
  const t0 = performance.now();
  const run = spawnCli(args, env);
  let midPass = false;
  try {
    await run.waitFor(kill.at === 'start' ? /reindex: .* -> .*dual writes on/ : /reindex pass \d+: /, 120_000);
    if (kill.at === 'pass' && kill.delayMs > 0) await sleep(kill.delayMs);
    midPass = kill.at === 'pass' && kill.delayMs > 0 && !/, 0 to go/.test(run.output());
    run.child.kill('SIGKILL');
  } catch {
    // It finished before the kill point: nothing left to kill.
  }
  const end = await run.exited;
  const killed = end.code === null;
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  const what = killed ? `SIGKILLed${midPass ? ' mid-pass' : ''}` : `exited ${String(end.code)}`;
  console.log(`  ${label}: ${JSON.stringify(kill)}: ${what} (${secs} s)`);
  if (!killed) assert.equal(end.code, 0, `${end.stdout}\n${end.stderr}`);
  return killed && midPass;
}

/** Reindex sagas a later run took over from a killed one (a takeover raises the fencing token). */
export async function takenOver(log: Pick<SagaLogQueries, 'list'>): Promise<number> {
  const page = await log.list({ name: 'reindex' }, { limit: 10_000 });
  return page.sagas.filter((s) => s.fencingToken > 1).length;
}
