// `apex-memory status`: is each store reachable, and how many sagas are in each status.
// Exit 1 when a store is unhealthy or a saga is stuck: both need an operator. Running sagas whose
// step is retrying a store that is down (an outage being ridden out) are counted by store, read
// from the saga log, so any process's ingest or worker shows up here.
import type { Command } from 'commander';
import type { StoreName } from '../stores/types.js';
import type { SagaEngine, SagaStatus } from '../saga/index.js';
import { exiting } from './command.js';
import { redactCredentials } from '../config/redact.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';
import { SAGA_STATUSES } from './sagas.js';
import { formatStoreCounts, waitingInLog } from '../ingest/store-waits.js';

/** Kept in the JSON output for older readers; counts are exact now (SagaLog.count). */
const COUNT_CAP = Number.MAX_SAFE_INTEGER;

/** Unfinished sagas by name@version (counted per definition this build knows, plus any other seen). */
async function unfinishedByDefinition(engine: SagaEngine): Promise<Array<{ definition: string; count: number; registered: boolean }>> {
  const byDef = new Map<string, { definition: string; count: number; registered: boolean }>();
  for (const status of ['pending', 'running', 'compensating', 'stuck'] as const) {
    // Versions nobody here registers show up in a bounded sample; registered ones are counted exactly.
    for (const s of await engine.log.list({ status, limit: 1000 })) {
      const definition = `${s.name}@${s.version}`;
      if (!byDef.has(definition)) byDef.set(definition, { definition, count: 0, registered: engine.isRegistered(s.name, s.version) });
    }
  }
  for (const entry of byDef.values()) {
    const [name, version] = [entry.definition.slice(0, entry.definition.lastIndexOf('@')), Number(entry.definition.slice(entry.definition.lastIndexOf('@') + 1))];
    for (const status of ['pending', 'running', 'compensating', 'stuck'] as const) entry.count += await engine.log.count({ status, name, version });
  }
  return [...byDef.values()].sort((a, b) => a.definition.localeCompare(b.definition));
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('health of each store and saga counts by status (exit 1 if a store is down or a saga is stuck)')
    .option('--json', 'print health and counts as JSON on stdout')
    .action(
      exiting((flags: { json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true, app: { lenientConnect: true } }, async (app, io) => {
          const names = Object.keys(app.stores) as StoreName[];
          // A down store's detail carries the driver's message: redacted like every CLI error.
          const health = await Promise.all(names.map(async (name) => {
            const h = await app.stores[name].health();
            return { store: name, ...h, detail: redactCredentials(h.detail) };
          }));
          const sagas = {} as Record<SagaStatus, number>;
          for (const status of SAGA_STATUSES) sagas[status] = await app.engine.log.count({ status });
          const unfinished = await unfinishedByDefinition(app.engine);
          const waiting = await waitingInLog(app.engine.log);
          const ok = health.every((h) => h.ok) && sagas.stuck === 0;
          if (io.json) {
            const waitingScan = { running: waiting.scanned, more: waiting.more };
            io.out(toJson({ ok, stores: health, sagas, waitingOnStore: waiting.counts, waitingScan, unfinished, countCap: COUNT_CAP }));
            return ok ? EXIT_OK : EXIT_FAILED;
          }
          io.out(`\n${renderTable([{ header: 'store' }, { header: 'health' }, { header: 'detail' }], health.map((h) => [h.store, h.ok ? 'ok' : 'DOWN', h.detail]))}`);
          io.out(
            `\n${renderTable(
              [{ header: 'saga status' }, { header: 'count', align: 'right' }],
              SAGA_STATUSES.map((s) => [s, sagas[s]]),
            )}`,
          );
          const waitingText = formatStoreCounts(waiting.counts);
          if (waitingText !== '') {
            const sample = waiting.more ? ` (among the first ${waiting.scanned} running sagas)` : '';
            io.out(`\nwaiting on ${waitingText}${sample}: retrying a store that is down, within their outage budget`);
          }
          if (unfinished.length > 0) {
            io.out(
              `\n${renderTable(
                [{ header: 'unfinished definition' }, { header: 'count', align: 'right' }, { header: 'registered here' }],
                unfinished.map((u) => [u.definition, u.count, u.registered ? 'yes' : 'NO (no worker of this build claims it)']),
              )}`,
            );
          }
          return ok ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
