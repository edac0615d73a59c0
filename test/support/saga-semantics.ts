// Shared by the engine-semantics tests (issue 9): a log per backend on a hand-moved clock, gates
// that hold a step until the test opens them, an owner id of a dead process on this host, and a
// step that hangs forever (a process that died mid-step, without killing the test process).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import type { SagaLog } from '../../src/saga/index.js';
import { processOwnerId, SagaEngine, systemClock, type EngineOptions } from '../../src/saga/index.js';

export interface TestLog {
  log: SagaLog;
  now: () => number;
  advance: (ms: number) => void;
}

/** The backends every semantics test runs on (PostgreSQL: test/conformance and test/crash). */
export const BACKENDS: Array<{ name: string; open: () => TestLog }> = [
  {
    name: 'memory',
    open: () => {
      const clock = manualClock();
      return { log: new MemorySagaLog({ now: clock.now }), ...clock };
    },
  },
  {
    name: 'sqlite',
    open: () => {
      const clock = manualClock();
      const file = join(mkdtempSync(join(tmpdir(), 'apex-sem-')), 'log.db');
      return { log: new SqliteSagaLog(file, { now: clock.now }), ...clock };
    },
  },
];

/** Starts near real time and moves only when told (plus real time, so timers still advance). */
export function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => void (offset += ms) };
}

export interface Gate {
  open: () => void;
  wait: Promise<void>;
  opened: boolean;
}

export function gate(): Gate {
  const g = { opened: false } as Gate;
  g.wait = new Promise<void>((r) => {
    g.open = () => {
      g.opened = true;
      r();
    };
  });
  return g;
}

/** A step body that hangs until its signal aborts (a process that died mid-step, as seen by the log). */
export const untilAborted = (signal: AbortSignal): Promise<never> =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));

/** Waits for `cond`, checking on every event-loop turn, up to `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** An owner id in this host's format whose process has exited (a SIGKILLed worker). */
export function deadOwnerId(): string {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const [host, , start] = processOwnerId().split(':');
  return `${host}:${child.stdout}:${start}:dead00`;
}

/** An engine on the test log, sharing its clock. */
export function engineOn(t: TestLog, opts: Partial<EngineOptions> = {}): SagaEngine {
  return new SagaEngine({
    log: t.log,
    leaseMs: 60_000,
    heartbeatMs: 0,
    clock: { now: t.now, sleep: systemClock.sleep, random: () => 0.5 },
    ...opts,
  });
}
