// `apex-memory status`: is each store and the saga log reachable, and how many sagas are in each
// status. Exit 1 when a store or the log is unhealthy or a saga is stuck: all need an operator. Running sagas whose
// step is retrying a store that is down (an outage being ridden out) are counted by store, read
// from the saga log, so any process's ingest or worker shows up here.
import type { Command } from 'commander';
import type { StoreName } from '../stores/types.js';
import type { SagaEngine, SagaStatus, SagaLogBackend } from '../saga/index.js';
import { exiting } from './command.js';
import { redactCredentials } from '../lib/redact.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { profileLines, renderTable, toJson } from './output.js';
import { bounded, describeLogError, openForStatus, probeSagaLog } from './status-log.js';
import { SAGA_STATUSES } from './sagas.js';
import { formatStoreCounts, waitingInLog } from '../ingest/store-waits.js';
import type { App } from '../app.js';
import { describeTarget, type IndexState } from '../ingest/reindex/state.js';

/** Kept in the JSON output for older readers; counts are exact now (SagaLogBackend.count). */
const COUNT_CAP = Number.MAX_SAFE_INTEGER;

/** Unfinished sagas by name@version (counted per definition this build knows, plus any other seen). */
async function unfinishedByDefinition(
  engine: SagaEngine<SagaLogBackend>,
): Promise<Array<{ definition: string; count: number; registered: boolean }>> {
  const byDef = new Map<string, { definition: string; count: number; registered: boolean }>();
  for (const status of ['pending', 'running', 'compensating', 'stuck'] as const) {
    // Versions nobody here registers show up in a bounded sample; registered ones are counted exactly.
    for (const s of (await engine.log.list({ status }, { limit: 1000 })).sagas) {
      const definition = `${s.name}@${s.version}`;
      if (!byDef.has(definition)) byDef.set(definition, { definition, count: 0, registered: engine.isRegistered(s.name, s.version) });
    }
  }
  for (const entry of byDef.values()) {
    const [name, version] = [
      entry.definition.slice(0, entry.definition.lastIndexOf('@')),
      Number(entry.definition.slice(entry.definition.lastIndexOf('@') + 1)),
    ];
    for (const status of ['pending', 'running', 'compensating', 'stuck'] as const)
      entry.count += await engine.log.count({ status, name, version });
  }
  return [...byDef.values()].sort((a, b) => a.definition.localeCompare(b.definition));
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description(
      'health of each store and of the saga log, saga counts by status (exit 1 if a store or the log is down, or a saga is stuck)',
    )
    .option('--json', 'print health and counts as JSON on stdout')
    .action(exiting((flags: { json?: boolean }, cmd: Command) => runStatus(flags.json === true, cmd)));
}

async function runStatus(json: boolean, cmd: Command): Promise<number> {
  const opened = await openForStatus(cmd);
  const { app } = opened;
  try {
    const io = statusIo(json);
    io.info(profileLines(opened.profile));
    const names = Object.keys(app.stores) as StoreName[];
    // A down store's detail carries the driver's message: redacted like every CLI error.
    const [health, sagaLog] = await Promise.all([
      Promise.all(
        names.map(async (name) => {
          const h = await app.stores[name].health();
          return { store: name, ...h, detail: redactCredentials(h.detail) };
        }),
      ),
      opened.logDown ?? probeSagaLog(app.engine.log, opened.storeTimeoutMs),
    ]);
    const counted = sagaLog.ok ? await countSagas(app.engine, opened.storeTimeoutMs) : undefined;
    const log = counted instanceof Error ? { ok: false, detail: describeLogError(app.engine.log.kind, counted) } : sagaLog;
    const c = counted instanceof Error ? undefined : counted;
    const index = await indexStatus(app);
    const ok = health.every((h) => h.ok) && log.ok && c?.sagas.stuck === 0 && index?.mismatch === undefined;
    if (io.json) {
      const waitingScan = c ? { running: c.waiting.scanned, more: c.waiting.more } : null;
      // With the log down its counts are unknown: null, not zeros that would look like "nothing to do".
      io.out(
        toJson({
          ok,
          stores: health,
          sagaLog: log,
          sagas: c?.sagas ?? null,
          waitingOnStore: c?.waiting.counts ?? null,
          waitingScan,
          unfinished: c?.unfinished ?? null,
          countCap: COUNT_CAP,
          index: index ?? null,
        }),
      );
      return ok ? EXIT_OK : EXIT_FAILED;
    }
    const rows = [...health.map((h) => [h.store, h.ok ? 'ok' : 'DOWN', h.detail]), ['saga log', log.ok ? 'ok' : 'DOWN', log.detail]];
    io.out(`\n${renderTable([{ header: 'store' }, { header: 'health' }, { header: 'detail' }], rows)}`);
    if (index) io.out(`\n${indexLines(index).join('\n')}`);
    if (!c) {
      io.out('\nsaga counts: unknown (the saga log is down)');
      return EXIT_FAILED;
    }
    io.out(
      `\n${renderTable(
        [{ header: 'saga status' }, { header: 'count', align: 'right' }],
        SAGA_STATUSES.map((s) => [s, c.sagas[s]]),
      )}`,
    );
    const waitingText = formatStoreCounts(c.waiting.counts);
    if (waitingText !== '') {
      const sample = c.waiting.more ? ` (among the first ${c.waiting.scanned} running sagas)` : '';
      io.out(`\nwaiting on ${waitingText}${sample}: retrying a store that is down, within their outage budget`);
    }
    if (c.unfinished.length > 0) {
      io.out(
        `\n${renderTable(
          [{ header: 'unfinished definition' }, { header: 'count', align: 'right' }, { header: 'registered here' }],
          c.unfinished.map((u) => [u.definition, u.count, u.registered ? 'yes' : 'NO (no worker of this build claims it)']),
        )}`,
      );
    }
    return ok ? EXIT_OK : EXIT_FAILED;
  } finally {
    await app.close();
  }
}

/** The log's counts; an Error when the log fails (or stops answering) half way. */
async function countSagas(engine: SagaEngine<SagaLogBackend>, timeoutMs: number) {
  const work = async () => {
    const sagas = {} as Record<SagaStatus, number>;
    for (const status of SAGA_STATUSES) sagas[status] = await engine.log.count({ status });
    const unfinished = await unfinishedByDefinition(engine);
    const waiting = await waitingInLog(engine.log);
    return { sagas, unfinished, waiting };
  };
  try {
    // Generous: a large log's counts take a while; this only stops a wait on a log that went silent.
    return await bounded(work(), 6 * timeoutMs);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** stdout for the result; the profile lines on stderr under --json (stdout stays pure JSON). */
function statusIo(json: boolean): { json: boolean; info(text: string): void; out(text: string): void } {
  const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
  return { json, info: write(json ? process.stderr : process.stdout), out: write(process.stdout) };
}

/** The active index record (docs/reindex.md): phase and targets; undefined when unreadable. */
async function indexStatus(app: App): Promise<(IndexState & { mismatch?: string }) | undefined> {
  const index = app.index;
  if (!index) return undefined;
  const cur = await index.record.read().catch(() => undefined);
  if (!cur) return undefined;
  return { ...cur.state, ...(index.mismatch !== undefined ? { mismatch: index.mismatch } : {}) };
}

function indexLines(s: IndexState & { mismatch?: string }): string[] {
  return [
    `vector index: ${s.phase}; reads from ${describeTarget(s.active)}`,
    ...(s.next ? [`  reindex in progress to ${describeTarget(s.next)} (dual writes on)`] : []),
    ...(s.previous ? [`  previous index (dual-written until \`reindex --finish\`): ${describeTarget(s.previous)}`] : []),
    ...(s.mismatch !== undefined ? [`  MISMATCH: ${s.mismatch}`] : []),
  ];
}
