// `apex-memory verify`: checks the cross-store invariant (DESIGN "Data contract") and lists every
// violation. Exit 1 when there is any. Run it when no saga is in flight, or expect not_final rows.
import type { Command } from 'commander';
import { verifyStores } from '../ingest/verify.js';
import { httpUrl } from '../metrics/cli.js';
import { recordVerify } from '../metrics/drift.js';
import { pushOrWarn } from '../metrics/push.js';
import { ApexMetrics } from '../metrics/registry.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderPairs, renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check that the four stores agree (every violation is listed; exit 1 if any)')
    .option('--json', 'print counts and violations as JSON on stdout')
    .option('--pushgateway <url>', 'push the violation counts by kind (apex_drift_violations) to a Prometheus Pushgateway (job apex_verify)', httpUrl)
    .action(
      exiting((flags: { json?: boolean; pushgateway?: string }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const report = await verifyStores(app.stores);
          if (flags.pushgateway !== undefined) {
            const metrics = new ApexMetrics();
            recordVerify(metrics, report);
            await pushOrWarn(metrics, flags.pushgateway, 'apex_verify', io.err);
          }
          const ok = report.violations.length === 0;
          if (io.json) {
            io.out(toJson({ ok, ...report }));
            return ok ? EXIT_OK : EXIT_FAILED;
          }
          io.out(
            `\n${renderPairs([
              ['documents', report.documents],
              ['committed', report.committed],
              ['violations', report.violations.length],
            ])}`,
          );
          if (!ok) {
            io.out(
              `\n${renderTable(
                [{ header: 'kind' }, { header: 'store' }, { header: 'document' }, { header: 'detail' }],
                report.violations.map((v) => [v.kind, v.store, v.docId, v.detail]),
              )}`,
            );
          }
          io.out(ok ? '\nverify: OK, the stores agree' : `\nverify: FAILED, ${report.violations.length} violation(s)`);
          return ok ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
