// `apex-memory sagas list`: one keyset page of the saga log, newest first, filtered by the log's
// own query (SagaLogQueries.list), so a filter that matches only old sagas still fills the page.
// Prints the cursor of the next page and the number of matches (counted up to 10,000).
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_PAGE, type LogFilter, type SagaEntry, type SagaStatus } from '../saga/index.js';
import { oneOf, positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_OK } from './errors.js';
import { formatMs, formatTime, renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';

export const SAGA_STATUSES: readonly SagaStatus[] = ['pending', 'running', 'compensating', 'completed', 'compensated', 'stuck'];
const TOTAL_CAP = 10_000;

interface ListFlags {
  status?: SagaStatus[];
  name?: string;
  sagaVersion?: number;
  doc?: string;
  reason?: string;
  owner?: string;
  retrying?: boolean;
  failedStep?: string;
  since?: number;
  until?: number;
  order: 'desc' | 'asc';
  limit: number;
  cursor?: string;
  json?: boolean;
}

function statuses(value: string): SagaStatus[] {
  const list = value.split(',').map((s) => s.trim());
  for (const s of list)
    if (!SAGA_STATUSES.includes(s as SagaStatus))
      throw new InvalidArgumentError(`expected one or more of ${SAGA_STATUSES.join(', ')} (comma-separated), got "${s.slice(0, 40)}"`);
  return list as SagaStatus[];
}

function time(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(ms))
    throw new InvalidArgumentError(`expected an ISO 8601 date-time or epoch milliseconds, got "${value.slice(0, 40)}"`);
  return ms;
}

function text(value: string): string {
  if (value.length === 0 || value.length > 500) throw new InvalidArgumentError('expected 1 to 500 characters');
  return value;
}

function filterOf(flags: ListFlags): LogFilter {
  return {
    ...(flags.status ? { status: flags.status } : {}),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.sagaVersion !== undefined ? { version: flags.sagaVersion } : {}),
    ...(flags.doc !== undefined ? { key: flags.doc } : {}),
    ...(flags.reason !== undefined ? { reasonCode: flags.reason } : {}),
    ...(flags.owner !== undefined ? { owner: flags.owner } : {}),
    ...(flags.retrying ? { retrying: true } : {}),
    ...(flags.failedStep !== undefined ? { failedStep: flags.failedStep } : {}),
    ...(flags.since !== undefined ? { createdFrom: flags.since } : {}),
    ...(flags.until !== undefined ? { createdBefore: flags.until } : {}),
  };
}

export function registerList(sagas: Command): void {
  sagas
    .command('list')
    .description("one page of the saga log, newest first, filtered by the log itself; prints the next page's cursor")
    .option('--status <statuses>', `only these statuses (comma-separated): ${SAGA_STATUSES.join(', ')}`, statuses)
    .option('--name <name>', 'only sagas of this definition (ingest, ingest_adr, delete)', text)
    .option('--saga-version <n>', 'only this definition version', positiveInt(1_000_000))
    .option('--doc <id>', 'only sagas writing this document (the saga key)', text)
    .option('--reason <code>', 'only sagas whose reason has this code (SAGA_CANCELLED, a fault code, ...)', text)
    .option('--owner <owner>', 'only sagas held (or last held) by this owner', text)
    .option('--retrying', 'only running sagas in a step retry')
    .option('--failed-step <step>', 'only sagas in which this step (or its compensation) failed', text)
    .option('--since <time>', 'created at or after (ISO 8601 or epoch ms)', time)
    .option('--until <time>', 'created before (ISO 8601 or epoch ms)', time)
    .option('--order <order>', 'desc (newest first) or asc', oneOf(['desc', 'asc'] as const), 'desc')
    .option('--limit <n>', `sagas per page (at most ${MAX_PAGE})`, positiveInt(MAX_PAGE), 50)
    .option('--cursor <cursor>', 'continue after the page that printed this cursor (same filters and order)')
    .option('--json', 'print the page as JSON on stdout: { sagas, next, total, totalCapped }')
    .action(
      exiting((flags: ListFlags, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const filter = filterOf(flags);
          const [page, total] = await Promise.all([
            app.engine.log.list(filter, {
              limit: flags.limit,
              order: flags.order,
              ...(flags.cursor !== undefined ? { cursor: flags.cursor } : {}),
            }),
            app.engine.log.countUpTo(filter, TOTAL_CAP),
          ]);
          const registered = (s: SagaEntry): boolean => app.engine.isRegistered(s.name, s.version);
          if (io.json) {
            io.out(
              toJson({
                sagas: page.sagas.map((s) => ({ ...s, registered: registered(s) })),
                next: page.next,
                total: total.count,
                totalCapped: total.capped,
              }),
            );
            return EXIT_OK;
          }
          const matches = `${total.count.toLocaleString('en-US')}${total.capped ? '+' : ''} match(es)`;
          io.out(`\n${renderSagaTable(page.sagas, registered)}\n${page.sagas.length} saga(s) shown, ${matches}`);
          if (page.next !== null) io.out(`next page: --cursor ${page.next}`);
          return EXIT_OK;
        }),
      ),
    );
}

/** `name@version`; versions this build does not register are marked (no worker of it claims them). */
export function renderSagaTable(list: readonly SagaEntry[], registered: (s: SagaEntry) => boolean = () => true): string {
  return renderTable(
    [
      { header: 'saga' },
      { header: 'definition' },
      { header: 'status' },
      { header: 'created' },
      { header: 'queued', align: 'right' },
      { header: 'ran', align: 'right' },
      { header: 'doc', maxWidth: 30 },
      { header: 'owner', maxWidth: 30 },
      { header: 'reason', maxWidth: 60 },
    ],
    list.map((s) => [
      s.sagaId,
      `${s.name}@${s.version}${registered(s) ? '' : ' (unregistered)'}`,
      s.status,
      formatTime(s.createdAt),
      formatMs(s.startedAt === null ? null : s.startedAt - s.createdAt),
      formatMs(s.startedAt === null ? null : (s.endedAt ?? s.updatedAt) - s.startedAt),
      s.key ?? '-',
      // An ended saga holds no lease: its last owner is history.
      s.endedAt === null ? (s.owner ?? '-') : '-',
      s.reason ? `[${s.reason.code}] ${s.reason.message}` : '',
    ]),
  );
}
