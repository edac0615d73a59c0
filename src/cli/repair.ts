// `apex-memory repair`: fixes what verify finds in the derived stores, from PostgreSQL. Refuses to
// run while sagas are in flight (their writes would look like orphan data) unless --force.
import type { Command } from 'commander';
import { repairStores } from '../ingest/repair.js';
import type { SagaStatus } from '../saga/index.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';

interface RepairFlags {
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
}

const IN_FLIGHT: readonly SagaStatus[] = ['pending', 'running', 'compensating'];

export function registerRepair(program: Command): void {
  program
    .command('repair')
    .description('fix what verify finds in Neo4j, Qdrant and Redis, from PostgreSQL (run with no saga in flight)')
    .option('--dry-run', 'only say what would be done')
    .option('--force', 'run even if the saga log shows sagas in flight')
    .option('--json', 'print the report as JSON on stdout')
    .action(
      exiting((flags: RepairFlags, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          let inFlight = 0;
          inFlight = (await app.profile.log.countUpTo({ status: IN_FLIGHT }, 1000)).count;
          if (inFlight > 0 && flags.force !== true) {
            io.err(`repair: ${inFlight} saga(s) in flight (pending/running/compensating); their writes would look like damage.`);
            io.err('repair: let them finish (`apex-memory sagas recover`), or pass --force if their owners are gone for good.');
            return EXIT_FAILED;
          }
          // The active index with its embedder and chunking (docs/reindex.md).
          const view = await app.readView();
          const report = await repairStores(view.stores, view.embedder, { dryRun: flags.dryRun === true, chunking: view.chunking });
          const left = report.after?.violations.length ?? report.before.violations.length;
          if (io.json) {
            io.out(toJson({ ok: left === 0, dryRun: flags.dryRun === true, ...report }));
          } else {
            if (report.actions.length === 0) io.out('\nrepair: nothing to do, the stores agree');
            else {
              io.out(
                `\n${renderTable(
                  [
                    { header: 'kind' },
                    { header: 'store' },
                    { header: 'document', maxWidth: 60 },
                    { header: flags.dryRun ? 'would' : 'done' },
                  ],
                  report.actions.map((a) => [a.violation.kind, a.violation.store, a.violation.docId, a.action]),
                )}`,
              );
              io.out(
                report.after
                  ? `\nrepair: ${report.before.violations.length} violation(s) before, ${left} after`
                  : '\nrepair: dry run, nothing changed',
              );
            }
          }
          return left === 0 || flags.dryRun === true ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
