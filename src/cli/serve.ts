// `apex-memory serve`: the HTTP API, its OpenAPI document and reference page (/docs), and the
// dashboard (/ui), in one process. Embedded profile (SQLite log): this process runs the sagas and
// also resumes orphaned and queued ones. PostgreSQL saga log (a fleet): writes are queued and
// `apex-memory worker` processes run them (--mode overrides). SIGTERM drains: new requests get
// 503, requests in flight get --grace-ms, then sagas still running are released to the fleet.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { WorkerLoop } from '../fleet/worker-loop.js';
import { onStopSignal } from '../fleet/signals.js';
import { drillStoresFromEnv, drillWrapper } from '../stores/faults-env.js';
import { ALLOWED_HOSTS_ENV, parseAllowedHosts } from '../http/host-guard.js';
import { startHttpServer } from '../http/listen.js';
import { createLogger, sagaLogHooks } from '../logging/logger.js';
import { port } from '../metrics/cli.js';
import { recordVerify } from '../metrics/drift.js';
import { createObservability } from '../metrics/observe.js';
import { oneOf, positiveInt } from './args.js';
import { exiting } from './command.js';
import { CliError, EXIT_OK } from './errors.js';
import { withApp } from './runtime.js';
import { errorCode, errorMessage } from '../lib/errors.js';

const CORS_ORIGINS_ENV = 'APEX_HTTP_CORS_ORIGINS';

interface ServeFlags {
  host: string;
  port: number;
  mode?: 'run' | 'enqueue';
  corsOrigin?: string[];
  maxBodyBytes: number;
  graceMs: number;
  concurrency: number;
}

function origin(value: string, previous: string[] = []): string[] {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError(`expected an origin such as https://app.example.com, got "${value.slice(0, 60)}"`);
  }
  if (u.origin !== value) throw new InvalidArgumentError(`expected an origin (scheme://host[:port]), got "${value.slice(0, 60)}"`);
  return [...previous, value];
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('HTTP API (/v1), OpenAPI (/openapi.json, /docs) and dashboard (/ui); see docs/http.md')
    .option('--host <host>', 'address to bind (anything but loopback needs APEX_API_TOKEN)', '127.0.0.1')
    .option('--port <port>', 'TCP port (0: any free port, printed at start)', port, 8080)
    .option(
      '--mode <mode>',
      'run: sagas run in this process; enqueue: queued for `apex-memory worker` (default: enqueue with a PostgreSQL saga log, else run)',
      oneOf(['run', 'enqueue'] as const),
    )
    .option('--cors-origin <origin>', 'allow this browser origin (repeatable); CORS is off without it', origin)
    .option('--max-body-bytes <n>', 'largest request body accepted', positiveInt(64 * 1024 * 1024), 8 * 1024 * 1024)
    .option('--grace-ms <ms>', 'on SIGTERM, how long requests and sagas in flight may take to finish', positiveInt(3_600_000), 10_000)
    .option('--concurrency <n>', 'run mode: sagas resumed from the log at once by this process', positiveInt(4096), 16)
    .addHelpText(
      'after',
      '\nEnvironment:\n' +
        '  APEX_API_TOKEN           bearer token clients must send (required off loopback; at least 16 characters)\n' +
        '  APEX_HTTP_ALLOWED_HOSTS  comma list of Host names answered besides loopback names (others: 421)\n' +
        '  APEX_HTTP_CORS_ORIGINS   comma list of origins, like --cors-origin\n' +
        '  APEX_INJECT_FAULTS       fault drill: JSON of store faults (docs/observability.md); never in production\n',
    )
    .action(exiting((flags: ServeFlags, cmd: Command) => runServe(flags, cmd)));
}

async function runServe(flags: ServeFlags, cmd: Command): Promise<number> {
  const log = createLogger({ name: 'server' });
  const obs = createObservability({ defaultMetrics: true, extraHooks: [sagaLogHooks(log)] });
  const token = process.env.APEX_API_TOKEN || undefined;
  let allowedHosts: string[];
  let envOrigins: string[];
  try {
    allowedHosts = parseAllowedHosts(process.env[ALLOWED_HOSTS_ENV]);
    envOrigins = (process.env[CORS_ORIGINS_ENV] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .reduce<string[]>((acc, o) => origin(o, acc), []);
  } catch (err) {
    throw new CliError('CLI_CONFIG', err instanceof InvalidArgumentError ? `${CORS_ORIGINS_ENV}: ${err.message}` : (err as Error).message);
  }
  let drill: string[];
  try {
    drill = drillStoresFromEnv(process.env);
  } catch (err) {
    throw new CliError('CLI_CONFIG', (err as Error).message);
  }
  const wrapStores = drillWrapper(process.env, (line) => log.warn(line), obs.wrapStores);
  return withApp(cmd, { json: true, app: { hooks: obs.hooks, wrapStores } }, async (app, io) => {
    obs.attach(app);
    const mode = flags.mode ?? (app.profile.log.kind === 'postgres' ? 'enqueue' : 'run');
    let server;
    try {
      server = await startHttpServer(
        app,
        {
          mode,
          maxBodyBytes: flags.maxBodyBytes,
          corsOrigins: [...(flags.corsOrigin ?? []), ...envOrigins],
          allowedHosts,
          ...(drill.length > 0 ? { faultDrill: { stores: drill } } : {}),
          metrics: { contentType: obs.metrics.contentType, metrics: () => obs.metrics.text() },
          onVerify: (report) => recordVerify(obs.metrics, report),
          ...(token ? { token } : {}),
        },
        { host: flags.host, port: flags.port, graceMs: flags.graceMs, log: (line) => log.error(line) },
      );
    } catch (err) {
      const code = errorCode(err);
      if (code === 'HTTP_UNSAFE_BIND') throw new CliError('CLI_CONFIG', errorMessage(err));
      if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
        throw new CliError('CLI_CONFIG', `cannot listen on ${flags.host}:${flags.port} (${code})`);
      }
      throw err;
    }
    // Run mode: this process is also the worker that resumes orphaned and queued sagas.
    const loop =
      mode === 'run'
        ? new WorkerLoop({ engine: app.engine, concurrency: flags.concurrency, warn: (line) => log.warn(line), logWaits: app.logWaits })
        : undefined;
    const looping = loop?.start();
    app.retention.start(); // ended sagas past APEX_SAGA_RETENTION (src/fleet/retention.ts)
    io.err(`apex-memory serve: listening on ${server.url} (mode ${mode}; dashboard ${server.url}/ui/, API reference ${server.url}/docs)`);
    log.info({ url: server.url, mode, auth: token ? 'bearer' : 'none (loopback)' }, 'listening');
    let removeHandlers: () => void = () => undefined;
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      removeHandlers = onStopSignal(resolve); // a second signal exits at once
    });
    io.err(`apex-memory serve: ${signal}: draining (grace ${flags.graceMs} ms)`);
    await server.stop();
    await loop?.stop({ graceMs: flags.graceMs });
    await looping;
    await app.engine.close({ graceMs: flags.graceMs }); // releases what is still running; withApp closes the stores
    removeHandlers();
    io.err('apex-memory serve: stopped');
    return EXIT_OK;
  });
}
