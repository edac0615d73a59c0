// `apex-memory worker`: one member of a fleet. Claims pending and orphaned sagas from the saga log
// and runs them (src/fleet/worker-loop.ts) until SIGTERM/SIGINT, then stops gracefully: nothing new
// is claimed, running sagas get --grace-ms to finish, the rest are released for other workers.
// A fleet needs a shared PostgreSQL saga log (SAGA_LOG_URL=postgresql://...); on a SQLite log
// the worker still runs, for the one machine that file lives on.
import type { Command } from 'commander';
import { WorkerLoop } from '../fleet/worker-loop.js';
import { createLogger, sagaLogHooks } from '../logging/logger.js';
import { port } from '../metrics/cli.js';
import { createObservability } from '../metrics/observe.js';
import { serveMetrics, type MetricsServer } from '../metrics/server.js';
import { scheduleVerify } from '../metrics/verify-schedule.js';
import { drillWrapper } from '../stores/faults-env.js';
import { onStopSignal } from '../fleet/signals.js';
import { statusLine } from '../fleet/tally.js';
import { positiveInt } from './args.js';
import { waitingText } from './progress.js';
import { exiting } from './command.js';
import { EXIT_OK } from './errors.js';
import { withApp } from './runtime.js';

interface WorkerFlags {
  concurrency: number;
  leaseMs: number;
  pollMs: number;
  graceMs: number;
  statusMs: number;
  metricsPort?: number;
  metricsHost: string;
  verifyEvery?: number;
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run sagas from the shared saga log until SIGTERM (fleet mode; needs SAGA_LOG_URL=postgresql://... for several machines)')
    .option('--concurrency <n>', 'sagas running at once in this worker', positiveInt(4096), 16)
    .option(
      '--lease-ms <ms>',
      'lease on a claimed saga; another worker takes it over this long after this one dies',
      positiveInt(3_600_000),
      30_000,
    )
    .option('--poll-ms <ms>', 'idle poll period of the saga log', positiveInt(60_000), 200)
    .option(
      '--grace-ms <ms>',
      'on SIGTERM, how long running sagas may take to finish before they are released',
      positiveInt(3_600_000),
      10_000,
    )
    .option('--status-ms <ms>', 'period of the one-line status report', positiveInt(3_600_000), 10_000)
    .option('--metrics-port <port>', 'serve Prometheus metrics on http://<metrics-host>:<port>/metrics (0: any free port)', port)
    .option('--metrics-host <host>', 'address the metrics endpoint binds to', '127.0.0.1')
    .option(
      '--verify-every <seconds>',
      'run verify every N seconds and export its violation counts (apex_drift_violations)',
      positiveInt(86_400),
    )
    .action(exiting((flags: WorkerFlags, cmd: Command) => runWorker(flags, cmd)));
}

function runWorker(flags: WorkerFlags, cmd: Command): Promise<number> {
  // Logs are JSON lines (pino) on stdout; the profile lines go to stderr (json mode of withApp).
  const log = createLogger({ name: 'worker' });
  const obs = createObservability({ defaultMetrics: true, extraHooks: [sagaLogHooks(log)] });
  const wrapStores = drillWrapper(process.env, (line) => log.warn(line), obs.wrapStores);
  const app = { leaseMs: flags.leaseMs, hooks: obs.hooks, wrapStores };
  return withApp(cmd, { json: true, app }, async (app) => {
    obs.attach(app);
    const owner = app.engine.owner;
    log.info(
      { owner, concurrency: flags.concurrency, leaseMs: flags.leaseMs, pollMs: flags.pollMs, graceMs: flags.graceMs },
      `worker: owner ${owner}  concurrency ${flags.concurrency}  lease ${flags.leaseMs} ms  poll ${flags.pollMs} ms  grace ${flags.graceMs} ms`,
    );
    if (app.profile.log.kind !== 'postgres') {
      log.info(
        `worker: the saga log is ${app.profile.log.kind}, usable by this machine only; a fleet of several machines needs SAGA_LOG_URL=postgresql://...`,
      );
    }
    const loop = new WorkerLoop({
      engine: app.engine,
      concurrency: flags.concurrency,
      pollMs: flags.pollMs,
      warn: (line) => log.warn(line),
      logWaits: app.logWaits,
    });
    // Every worker prunes ended sagas past APEX_SAGA_RETENTION (src/fleet/retention.ts); prunes
    // skip rows another worker is deleting, so a fleet doing it at once only shares the work.
    app.retention.start();
    let stopped: Promise<void> | undefined;
    obs.metrics.onScrape(async () => {
      if (stopped === undefined) obs.metrics.heartbeat.set(Date.now() / 1000);
    });
    let metrics: MetricsServer | undefined;
    if (flags.metricsPort !== undefined) {
      metrics = await serveMetrics(obs.metrics, { port: flags.metricsPort, host: flags.metricsHost });
      log.info({ metricsUrl: metrics.url }, `worker: metrics on ${metrics.url}`);
    }
    const verify =
      flags.verifyEvery === undefined
        ? undefined
        : scheduleVerify(app.readView, obs.metrics, flags.verifyEvery * 1000, (line) => log.warn(line));
    // Sagas retrying a store that is down (an outage ridden out) are named in the status line.
    const report = (): void => {
      const waiting = app.waits.current();
      log.info(
        { owner, ...loop.counts(), waitingOnStore: waiting },
        `${statusLine(owner, loop.counts(), loop.concurrency)}${waitingText(waiting)}`,
      );
    };
    const timer = setInterval(report, flags.statusMs);
    const removeHandlers = onStopSignal((signal) => {
      log.info(
        { signal },
        `worker: ${signal}: claiming nothing more, waiting up to ${flags.graceMs} ms for ${app.engine.activeCount} running saga(s)`,
      );
      stopped = loop.stop({ graceMs: flags.graceMs });
    });
    try {
      await loop.start();
      await stopped;
    } finally {
      clearInterval(timer);
      removeHandlers();
      await verify?.stop();
      await metrics?.close();
    }
    report();
    log.info('worker: stopped; unfinished sagas were released to the fleet');
    return EXIT_OK;
  });
}
