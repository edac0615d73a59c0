// `apex-memory status`: is each store reachable, and how many sagas are in each status.
// Exit 1 when a store is unhealthy or a saga is stuck: both need an operator.
import type { Command } from 'commander';
import type { StoreName } from '../stores/types.js';
import type { SagaStatus } from '../saga/index.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';
import { SAGA_STATUSES } from './sagas.js';

/** Counting goes through list(); past this many the count is shown as "N+". */
const COUNT_CAP = 1_000_000;

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('health of each store and saga counts by status (exit 1 if a store is down or a saga is stuck)')
    .option('--json', 'print health and counts as JSON on stdout')
    .action(
      exiting((flags: { json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true, app: { lenientConnect: true } }, async (app, io) => {
          const names = Object.keys(app.stores) as StoreName[];
          const health = await Promise.all(names.map(async (name) => ({ store: name, ...(await app.stores[name].health()) })));
          const sagas = {} as Record<SagaStatus, number>;
          for (const status of SAGA_STATUSES) sagas[status] = (await app.engine.log.list({ status, limit: COUNT_CAP })).length;
          const ok = health.every((h) => h.ok) && sagas.stuck === 0;
          if (io.json) {
            io.out(toJson({ ok, stores: health, sagas, countCap: COUNT_CAP }));
            return ok ? EXIT_OK : EXIT_FAILED;
          }
          io.out(`\n${renderTable([{ header: 'store' }, { header: 'health' }, { header: 'detail' }], health.map((h) => [h.store, h.ok ? 'ok' : 'DOWN', h.detail]))}`);
          io.out(
            `\n${renderTable(
              [{ header: 'saga status' }, { header: 'count', align: 'right' }],
              SAGA_STATUSES.map((s) => [s, sagas[s] >= COUNT_CAP ? `${COUNT_CAP}+` : sagas[s]]),
            )}`,
          );
          return ok ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
