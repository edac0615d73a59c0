// `apex-memory ingest <paths...>`: writes documents from files, folders, JSONL and stdin into all
// four stores, at most --concurrency at a time, then prints what happened. Exit 1 when any
// document was rejected, compensated (not written), stuck or failed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { App } from '../app.js';
import type { IngestPlan } from '../ingest/sagas/ingest-saga.js';
import { oneOf, positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK } from './errors.js';
import { countDocuments, runIngest } from './ingest-run.js';
import type { DocumentFailure, IngestSummary, IngestTally } from './ingest-tally.js';
import { formatMs, profileLines, renderTable, toJson } from './output.js';
import { submitAll } from './ingest-submit.js';
import { finishLeftovers } from './ingest-leftovers.js';
import { httpUrl } from '../metrics/cli.js';
import { createObservability } from '../metrics/observe.js';
import { pushOrWarn } from '../metrics/push.js';
import { createProgress, type ProgressCounts } from './progress.js';
import { formatStoreCounts, type StoreCounts } from '../ingest/store-waits.js';
import { withApp, type CommandIo } from './runtime.js';
import { drillWrapper } from '../stores/faults-env.js';

const PLANS: readonly IngestPlan[] = ['default', 'adr'];
const LISTED_FAILURES = 20;
const COUNT_HEAD_START_MS = 500;
/** While a store is down no document finishes: the progress line is still refreshed this often. */
const WAITING_TICK_MS = 1_000;

interface IngestFlags {
  concurrency: number;
  plan: IngestPlan;
  json?: boolean;
  progress: boolean;
  submit?: boolean;
  pushgateway?: string;
}

export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('write documents (files, folders, .jsonl, "-" for stdin) into all four stores')
    .argument('<paths...>', 'files (.md, .txt, .jsonl), folders (read recursively) or "-" for stdin')
    .option('-c, --concurrency <n>', 'documents written at the same time', positiveInt(256), 8)
    .option('--plan <plan>', 'saga plan: default (parallel graph+vector writes) or adr (sequential)', oneOf(PLANS), 'default')
    .option('--no-progress', 'no progress bar or progress lines on stderr')
    .option('--json', 'print one JSON object (summary and per-document failures) on stdout')
    .option('--submit', 'queue the sagas as pending for `apex-memory worker` processes instead of running them here')
    .option('--pushgateway <url>', "push this run's metrics to a Prometheus Pushgateway at the end (job apex_ingest)", httpUrl)
    .action(exiting((paths: string[], flags: IngestFlags, cmd: Command) => ingest(cmd, paths, flags)));
}

async function ingest(cmd: Command, paths: string[], flags: IngestFlags): Promise<number> {
  // With --pushgateway the run is observed like a worker's and its metrics pushed at the end.
  const obs = flags.pushgateway === undefined ? undefined : createObservability();
  // APEX_INJECT_FAULTS drills ingest exactly as they drill serve and worker.
  const wrapStores = drillWrapper(process.env, (line) => void process.stderr.write(`${line}\n`), obs?.wrapStores);
  const observed = { app: { ...(obs ? { hooks: obs.hooks } : {}), wrapStores } };
  return withApp(cmd, { json: flags.json === true, plan: flags.plan, ...observed }, async (app, io) => {
    obs?.attach(app);
    const code = await ingestWith(app, io, paths, flags);
    if (obs && flags.pushgateway !== undefined) await pushOrWarn(obs.metrics, flags.pushgateway, 'apex_ingest', io.err);
    return code;
  });
}

async function ingestWith(app: App, io: CommandIo, paths: string[], flags: IngestFlags): Promise<number> {
  if (flags.submit === true) return submitAll(app, io, paths);
  const leftovers = await finishLeftovers(app);
  // On a SQLite log nothing else may ever prune (no worker, no serve): one pass per run.
  if (app.profile.log.kind === 'sqlite') {
    await app.retention.pass().catch((err: unknown) => io.err(`retention: prune failed (${(err as Error).message})`));
  }
  if (leftovers > 0 && !io.json) io.out(`finished ${leftovers} saga(s) left by an interrupted run before starting`);
  const interrupt = onInterrupt(io);
  const progress = createProgress({ enabled: flags.progress });
  const counter = paths.includes('-') || !flags.progress ? undefined : countDocuments(paths);
  void counter?.total.then((n) => n !== undefined && progress.setTotal(n));
  let counts: ProgressCounts = { done: 0, failed: 0 };
  const show = (): void => progress.update({ ...counts, waiting: app.waits.current() });
  const tick = setInterval(show, WAITING_TICK_MS);
  tick.unref();
  let tally: IngestTally;
  try {
    // Counting competes with the writes once they start; a short head start usually finishes it.
    if (counter) await Promise.race([counter.total, sleep(COUNT_HEAD_START_MS)]);
    tally = await runIngest(app, paths, {
      concurrency: flags.concurrency,
      signal: interrupt.signal,
      onItem: (t) => {
        counts = { done: t.processed, failed: t.failed };
        show();
      },
    });
  } finally {
    clearInterval(tick);
    counter?.stop();
    progress.stop();
    interrupt.dispose();
  }
  const summary = tally.summary();
  // Documents that waited on a store that was down (and rode the outage out, or not).
  const waitedOnStore = app.waits.total();
  if (io.json) {
    const out = {
      ok: tally.ok,
      plan: flags.plan,
      concurrency: flags.concurrency,
      ...summary,
      waitedOnStore,
      failures: tally.failures,
      profile: io.profile,
    };
    io.out(toJson(out));
  } else {
    printFailures(io, tally.failures);
    io.out(renderSummary(summary, flags, waitedOnStore));
    io.out(profileLines(io.profile));
  }
  if (summary.interrupted) return EXIT_INTERRUPTED;
  return tally.ok ? EXIT_OK : EXIT_FAILED;
}

function printFailures(io: CommandIo, failures: DocumentFailure[]): void {
  if (failures.length === 0) return;
  const shown = failures.slice(0, LISTED_FAILURES);
  const unknown = failures.filter((f) => f.kind === 'unknown').length;
  const head =
    unknown === 0
      ? `${failures.length} document(s) not written`
      : `${failures.length - unknown} document(s) not written, ${unknown} in doubt (their sagas may still commit)`;
  io.out(`\n${head}${failures.length > shown.length ? ` (first ${shown.length} listed)` : ''}:`);
  io.out(
    renderTable(
      [{ header: 'outcome' }, { header: 'source', maxWidth: 60 }, { header: 'code' }, { header: 'message', maxWidth: 120 }],
      shown.map((f) => [f.kind, f.source, f.code, f.sagaId ? `${withoutSource(f)} (saga ${f.sagaId})` : withoutSource(f)]),
    ),
  );
  if (failures.length > shown.length) io.out(`... and ${failures.length - shown.length} more (--json lists all)`);
}

/** Document errors end with " at <source>"; the table has a source column already. */
function withoutSource(f: DocumentFailure): string {
  const suffix = ` at ${f.source}`;
  return f.message.endsWith(suffix) ? f.message.slice(0, -suffix.length) : f.message;
}

function renderSummary(s: IngestSummary, flags: IngestFlags, waited: StoreCounts): string {
  const rows: Array<[string, string]> = [
    ['completed', `${s.completed} (created ${s.created}, updated ${s.updated}, unchanged ${s.unchanged})`],
    ['compensated', String(s.compensated)],
    ['stuck', String(s.stuck)],
    ['rejected', String(s.rejected)],
    ['errors', String(s.errors)],
    ...(s.unknown > 0
      ? [['unknown', `${s.unknown} (sagas that may still commit: \`apex-memory sagas recover\` finishes them)`] as [string, string]]
      : []),
    ['waited on a store', formatStoreCounts(waited) || 'none'],
    [
      `latency ms (${s.latencyMs.sagas} sagas)`,
      `p50 ${formatMs(s.latencyMs.p50)}  p90 ${formatMs(s.latencyMs.p90)}  p99 ${formatMs(s.latencyMs.p99)}`,
    ],
    ['documents/second', s.docsPerSecond.toFixed(1)],
    ['wall time', `${(s.wallTimeMs / 1000).toFixed(2)} s`],
    ['plan / concurrency', `${flags.plan} / ${flags.concurrency}`],
  ];
  if (s.interrupted) rows.push(['interrupted', 'yes: stopped reading after Ctrl-C; the rest was not ingested']);
  return `\n${renderTable([{ header: 'ingest' }, { header: 'result' }], rows)}`;
}

/** First Ctrl-C: stop reading, let in-flight writes finish and print the summary. Second: quit now
 * (sagas left running are finished by `sagas recover` once their lease expires). */
function onInterrupt(io: CommandIo): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    controller.abort();
    io.err('interrupted: finishing the documents in flight (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => void process.off('SIGINT', handler) };
}
