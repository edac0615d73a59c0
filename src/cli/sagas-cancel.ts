// `apex-memory sagas cancel <id>`: compensates a saga that has not reached its pivot, wherever it
// runs (another owner is fenced). After the pivot the engine refuses (SAGA_NOT_CANCELLABLE, exit 1):
// the saga can only go forward.
import type { Command } from 'commander';
import { hostname, userInfo } from 'node:os';
import { errorCode, errorMessage } from '../lib/errors.js';
import { sagaId } from './args.js';
import { exiting } from './command.js';
import { CliError, EXIT_FAILED, EXIT_OK } from './errors.js';
import { formatMs, renderPairs, toJson } from './output.js';
import { withApp } from './runtime.js';
import { cancelAndForget } from '../ingest/staged-sweep.js';

/** user@host of the operator, for the cancellation record (userInfo throws without a passwd entry). */
function whoAmI(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // keep $USER
  }
  return `${user}@${hostname()} (cli)`;
}

export function registerCancel(sagas: Command): void {
  sagas
    .command('cancel')
    .description('cancel a saga before its pivot: it compensates (exit 1 if it passed its pivot)')
    .argument('<id>', 'saga id', sagaId)
    .option(
      '--reason <text>',
      'why; recorded with the cancellation (the saga reason too, unless it had already failed: then that failure stays its reason)',
      'cancelled by operator',
    )
    .option('--by <name>', 'who cancels, recorded with the time and reason (default: user@host)')
    .option('--json', 'print the outcome as JSON on stdout')
    .action(
      exiting((id: string, flags: { reason: string; by?: string; json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const t0 = performance.now();
          let outcome;
          try {
            outcome = await cancelAndForget(app.engine, app.stores, id, flags.reason, { by: flags.by ?? whoAmI() });
          } catch (err) {
            if (errorCode(err) === 'SAGA_NOT_FOUND') throw new CliError('CLI_NOT_FOUND', `no saga "${id}" in the log`);
            if (errorCode(err) === 'SAGA_NOT_CANCELLABLE') {
              const message = errorMessage(err);
              if (io.json) io.out(toJson({ ok: false, sagaId: id, error: { code: 'SAGA_NOT_CANCELLABLE', message } }));
              else io.out(`\n[SAGA_NOT_CANCELLABLE] ${message}`);
              return EXIT_FAILED;
            }
            throw err;
          }
          const ok = outcome.status === 'compensated';
          if (io.json)
            io.out(toJson({ ok, sagaId: outcome.sagaId, saga: outcome.saga, status: outcome.status, reason: outcome.reason ?? null }));
          else {
            const pairs: Array<[string, string]> = [
              ['saga', `${outcome.sagaId} (${outcome.saga})`],
              ['status', outcome.status],
              ['duration ms', formatMs(performance.now() - t0)],
            ];
            if (outcome.reason) pairs.push(['reason', `[${outcome.reason.code}] ${outcome.reason.message}`]);
            pairs.push(['cancelled by', `${flags.by ?? whoAmI()}: ${flags.reason}`]);
            io.out(`\n${renderPairs(pairs)}`);
          }
          return ok ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
