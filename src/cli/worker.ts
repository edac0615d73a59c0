// `apex-memory worker`: one member of a fleet. Claims pending and orphaned sagas from the saga log
// and runs them (src/fleet/worker-loop.ts) until SIGTERM/SIGINT, then stops gracefully: nothing new
// is claimed, running sagas get --grace-ms to finish, the rest are released for other workers.
// A fleet needs a shared PostgreSQL saga log (SAGA_LOG_URL=postgresql://...); on a SQLite log
// the worker still runs, for the one machine that file lives on.
import type { Command } from 'commander';
import { WorkerLoop } from '../fleet/worker-loop.js';
import { onStopSignal } from '../fleet/signals.js';
import { statusLine } from '../fleet/tally.js';
import { positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_OK } from './errors.js';
import { withApp } from './runtime.js';

interface WorkerFlags {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  graceMs: number;
  statusMs: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run sagas from the shared saga log until SIGTERM (fleet mode; needs SAGA_LOG_URL=postgresql://... for several machines)')
    .option('--concurrency <n>', 'sagas running at once in this worker', positiveInt(4096), 16)
    .option('--lease-ms <ms>', 'lease on a claimed saga; another worker takes it over this long after this one dies', positiveInt(3_600_000), 30_000)
    .option('--poll-ms <ms>', 'idle poll period of the saga log', positiveInt(60_000), 200)
    .option('--grace-ms <ms>', 'on SIGTERM, how long running sagas may take to finish before they are released', positiveInt(3_600_000), 10_000)
    .option('--status-ms <ms>', 'period of the one-line status report', positiveInt(3_600_000), 10_000)
    .action(exiting((flags: WorkerFlags, cmd: Command) => runWorker(flags, cmd)));
}

function runWorker(flags: WorkerFlags, cmd: Command): Promise<number> {
  return withApp(cmd, { app: { leaseMs: flags.leaseMs } }, async (app, io) => {
    io.info(`worker: owner ${app.engine.owner}  concurrency ${flags.concurrency}  lease ${flags.leaseMs} ms  poll ${flags.pollMs} ms  grace ${flags.graceMs} ms`);
    if (app.profile.log.kind !== 'postgres') {
      io.info(`worker: the saga log is ${app.profile.log.kind}, usable by this machine only; a fleet of several machines needs SAGA_LOG_URL=postgresql://...`);
    }
    const loop = new WorkerLoop({
      engine: app.engine,
      concurrency: flags.concurrency,
      pollMs: flags.pollMs,
      warn: (line) => io.err(line),
    });
    const report = (): void => io.info(statusLine(app.engine.owner, loop.counts(), loop.concurrency));
    const timer = setInterval(report, flags.statusMs);
    let stopped: Promise<void> | undefined;
    const removeHandlers = onStopSignal((signal) => {
      io.info(`worker: ${signal}: claiming nothing more, waiting up to ${flags.graceMs} ms for ${app.engine.activeCount} running saga(s)`);
      stopped = loop.stop({ graceMs: flags.graceMs });
    });
    try {
      await loop.start();
      await stopped;
    } finally {
      clearInterval(timer);
      removeHandlers();
    }
    report();
    io.info('worker: stopped; unfinished sagas were released to the fleet');
    return EXIT_OK;
  });
}
