// `apex-memory sagas prune --older-than 7d`: retention for the saga log. Deletes sagas that ended
// (completed or compensated) longer ago than the given age, with their records and inputs, in
// batches. Unfinished and stuck sagas are never touched.
import type { Command } from 'commander';
import { duration, positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_OK } from './errors.js';
import { toJson } from './output.js';
import { withApp } from './runtime.js';

const BATCH = 1_000;

export function registerPrune(sagas: Command): void {
  sagas
    .command('prune')
    .description('delete sagas that ended (completed/compensated) longer ago than --older-than, with their records')
    .requiredOption('--older-than <age>', 'age such as 12h or 30d', duration)
    .option('--max <n>', 'delete at most this many sagas', positiveInt(100_000_000), 1_000_000)
    .option('--json', 'print the count as JSON on stdout')
    .action(
      exiting((flags: { olderThan: number; max: number; json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const endedBefore = Date.now() - flags.olderThan;
          let deleted = 0;
          while (deleted < flags.max) {
            const n = await app.engine.log.prune(endedBefore, Math.min(BATCH, flags.max - deleted));
            deleted += n;
            if (n === 0) break;
          }
          const before = new Date(endedBefore).toISOString();
          if (io.json) io.out(toJson({ ok: true, deleted, endedBefore: before }));
          else io.out(`\nsagas prune: deleted ${deleted} saga(s) that ended before ${before}`);
          return EXIT_OK;
        }),
      ),
    );
}
