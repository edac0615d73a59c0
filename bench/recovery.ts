// Recovery: N in-flight sagas, their process killed (SIGKILL), then the time until new processes
// (the fleet's worker loop, as `apex-memory worker` runs it) have finished all of them. The victim
// runs the anchor saga with its second step blocked, so every saga is in flight at the kill.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openSagaLog } from '../src/log/open.js';
import { SagaEngine, defineSaga } from '../src/saga/index.js';
import { WorkerLoop } from '../src/fleet/worker-loop.js';
import { freshDatabase, serviceUrls } from './servers-setup.js';

const STEPS = ['neo4j_write', 'postgres_write', 'qdrant_write', 'redis_write'] as const;
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** The anchor saga; in the victim, step 2 never returns. */
function saga(blockSecond: boolean) {
  let b = defineSaga<{ id: string }>('anchor_workload', 1) as ReturnType<typeof defineSaga<{ id: string }>>;
  for (const [i, name] of STEPS.entries()) {
    const run = blockSecond && i === 1 ? () => new Promise<void>(() => undefined) : async () => undefined;
    b = b.step({ name, run, compensate: async () => undefined }) as typeof b;
  }
  return b.build();
}

export interface RecoveryRow {
  name: string;
  log: string;
  n: number;
  workers: number;
  lease_ms: number;
  recovery_ms: number;
  start_to_done_ms: number;
  finished: number;
}

/** Child mode: starts n sagas, says READY once all are in step 2, then waits to be killed. */
export async function recoveryVictim(target: string, n: number, leaseMs: number): Promise<void> {
  const log = await openSagaLog(target);
  const engine = new SagaEngine({ log, leaseMs, owner: undefined });
  let inSecond = 0;
  engine.addHooks({ onStepStart: (e) => void (e.step === STEPS[1] && ++inSecond === n && console.log('READY')) });
  const def = saga(true);
  for (let i = 0; i < n; i++) void engine.execute(def, { id: String(i) }).catch(() => undefined);
  await new Promise(() => undefined);
}

/** Child mode: a worker loop that exits once no saga in the log is unfinished. */
export async function recoveryWorker(target: string, concurrency: number): Promise<void> {
  const log = await openSagaLog(target);
  const engine = new SagaEngine({ log });
  engine.register(saga(false));
  const loop = new WorkerLoop({ engine, concurrency, pollMs: 20 });
  void loop.start();
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const [running, compensating] = await Promise.all([log.count({ status: 'running' }), log.count({ status: 'compensating' })]);
    if (running + compensating === 0 && engine.activeCount === 0) break;
  }
  console.log(`DONE ${await log.count({ status: 'completed' })}`);
  process.exit(0);
}

function child(args: string[]): ChildProcess {
  return spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function lineOf(p: ChildProcess, prefix: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: p.stdout! });
    rl.on('line', (l) => l.startsWith(prefix) && resolve(l));
    p.on('exit', (code) => reject(new Error(`child exited (${code}) before "${prefix}"`)));
  });
}

export async function benchRecovery(opts: {
  log: 'sqlite' | 'postgres';
  n: number;
  workers: number;
  leaseMs: number;
  concurrency: number;
}): Promise<RecoveryRow> {
  // A clean log each time: the workers count unfinished sagas over the whole log.
  const db = opts.log === 'postgres' ? await freshDatabase(serviceUrls(), `apex_bench_rec_${process.pid}`) : undefined;
  const target = db ? db.url : join(mkdtempSync(join(tmpdir(), 'apex-bench-rec-')), 'saga-log.db');
  try {
    return await run(target, opts);
  } finally {
    await db?.drop();
  }
}

async function run(
  target: string,
  opts: { log: 'sqlite' | 'postgres'; n: number; workers: number; leaseMs: number; concurrency: number },
): Promise<RecoveryRow> {
  const victim = child(['recovery-victim', '--target', target, '--n', String(opts.n), '--lease-ms', String(opts.leaseMs)]);
  await lineOf(victim, 'READY');
  victim.kill('SIGKILL');
  await new Promise((r) => victim.once('exit', r));
  const killed = performance.now();
  const workers = Array.from({ length: opts.workers }, () =>
    child(['recovery-worker', '--target', target, '--concurrency', String(opts.concurrency)]),
  );
  const started = performance.now();
  const done = await Promise.all(workers.map((w) => lineOf(w, 'DONE')));
  const end = performance.now();
  return {
    name: `recovery ${opts.log}`,
    log: opts.log,
    n: opts.n,
    workers: opts.workers,
    lease_ms: opts.leaseMs,
    recovery_ms: +(end - killed).toFixed(0),
    start_to_done_ms: +(end - started).toFixed(0),
    finished: Number(done[0]?.split(' ')[1] ?? 0),
  };
}
