// `apex-memory sagas ...`: the operator's view of the saga log. list and show only read it;
// retry and recover run sagas through the engine (the writer registered every definition).
import type { Command } from 'commander';
import { sagaId } from './args.js';
import { exiting } from './command.js';
import { CliError, EXIT_FAILED, EXIT_OK } from './errors.js';
import { formatMs, formatTime, renderPairs, toJson } from './output.js';
import { withApp } from './runtime.js';
import { contentStateOf, describeContent } from '../ingest/content-state.js';
import { registerRecover } from './sagas-recover.js';
import { registerPrune } from './sagas-prune.js';
import { registerCancel } from './sagas-cancel.js';
import { renderTimeline } from './sagas-timeline.js';
import { registerList } from './sagas-list.js';

export { SAGA_STATUSES, renderSagaTable } from './sagas-list.js';

export function registerSagas(program: Command): void {
  const sagas = program.command('sagas').description('inspect and operate the saga log (list, show, retry, recover, prune)');

  registerList(sagas);

  sagas
    .command('show')
    .description('one saga: header and the timeline of its log records')
    .argument('<id>', 'saga id', sagaId)
    .option('--json', 'print the stored saga (header and records) as JSON on stdout')
    .action(
      exiting((id: string, flags: { json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const saga = await app.engine.log.load(id);
          if (!saga) throw new CliError('CLI_NOT_FOUND', `no saga "${id}" in the log`);
          if (io.json) {
            io.out(toJson(saga));
            return EXIT_OK;
          }
          io.out(
            `\n${renderPairs([
              ['saga', saga.sagaId],
              [
                'definition',
                `${saga.name}@${saga.version}${app.engine.isRegistered(saga.name, saga.version) ? '' : ' (unregistered: no definition for this version here)'}`,
              ],
              ['status', saga.status],
              ['reason', saga.reason ? `[${saga.reason.code}] ${saga.reason.message}` : '-'],
              // An ended saga holds no lease: its last owner and token are history.
              ['owner', saga.endedAt === null ? (saga.owner ?? '-') : `- (last: ${saga.owner ?? '-'})`],
              ['fencing token', saga.fencingToken],
              ['lease expires', saga.endedAt === null ? formatTime(saga.leaseExpiresAt) : '-'],
              ['key', saga.key ?? '-'],
              ['created', formatTime(saga.createdAt)],
              [
                'started',
                saga.startedAt === null
                  ? '- (queued)'
                  : `${formatTime(saga.startedAt)} (queued ${formatMs(saga.startedAt - saga.createdAt)} ms)`,
              ],
              [
                'ended',
                saga.endedAt === null
                  ? '-'
                  : `${formatTime(saga.endedAt)} (ran ${formatMs(saga.endedAt - (saga.startedAt ?? saga.createdAt))} ms)`,
              ],
              ['updated', formatTime(saga.updatedAt)],
              ['input', summarizeInput(saga.input)],
              ['content', describeContent(await contentStateOf(app.stores.postgres, saga))],
            ])}`,
          );
          io.out(`\n${renderTimeline(saga.records, saga.recordTimes)}`);
          return EXIT_OK;
        }),
      ),
    );

  sagas
    .command('retry')
    .description('operator retry of a stuck saga: forward after its pivot, else compensation')
    .argument('<id>', 'saga id (status stuck)', sagaId)
    .option('--json', 'print the outcome as JSON on stdout')
    .action(
      exiting((id: string, flags: { json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const t0 = performance.now();
          const outcome = await app.engine.retryStuck(id);
          const ok = outcome.status !== 'stuck';
          if (io.json)
            io.out(toJson({ ok, sagaId: outcome.sagaId, saga: outcome.saga, status: outcome.status, reason: outcome.reason ?? null }));
          else {
            const pairs: Array<[string, string]> = [
              ['saga', `${outcome.sagaId} (${outcome.saga})`],
              ['status', outcome.status],
              ['duration ms', formatMs(performance.now() - t0)],
            ];
            if (outcome.reason) pairs.push(['reason', `[${outcome.reason.code}] ${outcome.reason.message}`]);
            io.out(`\n${renderPairs(pairs)}`);
          }
          return ok ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );

  registerRecover(sagas);
  registerPrune(sagas);
  registerCancel(sagas);
}

/** The input's scalar fields and, for documents, the id: enough to know what the saga was about. */
function summarizeInput(input: unknown): string {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return JSON.stringify(input);
  const record = input as Record<string, unknown>;
  const doc = record.doc as Record<string, unknown> | undefined;
  const parts: string[] = [];
  if (doc && typeof doc.id === 'string') parts.push(`doc ${doc.id}`);
  for (const [k, v] of Object.entries(record)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null) parts.push(`${k}=${String(v)}`);
  }
  return parts.join('  ') || '{…}';
}
