// `apex-memory verify`: checks the cross-store invariant (DESIGN "Data contract") and lists every
// violation. Exit 1 when there is any. Run it when no saga is in flight, or expect not_final rows.
import type { Command } from 'commander';
import { checkErasure, type ErasureReceipt } from '../ingest/erasure.js';
import { verifyStores, type ExtraVectors } from '../ingest/verify.js';
import { httpUrl } from '../metrics/cli.js';
import { recordVerify } from '../metrics/drift.js';
import { pushOrWarn } from '../metrics/push.js';
import { ApexMetrics } from '../metrics/registry.js';
import { documentId, positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderPairs, renderTable, toJson } from './output.js';
import { withApp } from './runtime.js';
import type { App } from '../app.js';

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('check that the four stores agree (every violation is listed; exit 1 if any)')
    .option('--json', 'print counts and violations (with --erased: the erasure receipt) as JSON on stdout')
    .option(
      '--erased <id>',
      'instead: prove that document <id> was erased (every store and the saga log, by id and content hash); exit 1 while a trace remains',
      documentId,
    )
    .option('--log-scan-limit <n>', 'with --erased: sagas per definition the saga-log scan loads', positiveInt(10_000_000), 10_000)
    .option(
      '--pushgateway <url>',
      'push the violation counts by kind (apex_drift_violations) to a Prometheus Pushgateway (job apex_verify)',
      httpUrl,
    )
    .action(
      exiting((flags: { json?: boolean; pushgateway?: string; erased?: string; logScanLimit: number }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          if (flags.erased !== undefined) {
            const view = await app.readView();
            const receipt = await checkErasure(view.stores, app.engine.log, flags.erased, {
              logScanLimit: flags.logScanLimit,
              extraVectors: await reindexTargets(app),
            });
            io.out(io.json ? toJson(receipt) : renderReceipt(receipt));
            return receipt.erased ? EXIT_OK : EXIT_FAILED;
          }
          // The active index (the record's, docs/reindex.md) beside the other targets it names.
          const view = await app.readView();
          const report = await verifyStores(view.stores, { extraVectors: await reindexTargets(app), chunking: view.chunking });
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

function renderReceipt(r: ErasureReceipt): string {
  const d = r.deleteSaga;
  const head = renderPairs([
    ['document', r.docId],
    [
      'delete saga',
      d
        ? `${d.sagaId} (${d.status ?? 'not in the log'}${d.completedAt ? `, completed ${d.completedAt}` : ''})`
        : '- (no erasure on record)',
    ],
    ['checked at', r.checkedAt],
  ]);
  const rows = r.stores.map((c) => [
    c.store,
    c.backend,
    c.clean === null ? `NOT CHECKED: ${c.error ?? '?'}` : c.clean ? 'clean' : c.traces.join('; '),
    c.kept.join('; ') || '-',
  ]);
  const table = renderTable([{ header: 'store' }, { header: 'backend' }, { header: 'result' }, { header: 'kept on purpose' }], rows);
  return `\n${head}\n\n${table}\n${r.erased ? '\nverify --erased: OK, no trace of the document remains' : '\nverify --erased: NOT ERASED (traces above, or a store could not be checked)'}`;
}

/** The other vector collections of a reindex in progress (docs/reindex.md): verify covers them too.
 * `next` is still being built while migrating; `previous` (after a switch) is complete. */
async function reindexTargets(app: App): Promise<ExtraVectors[]> {
  const index = app.index;
  if (!index) return [];
  const cur = await index.record.read();
  if (!cur) return [];
  return (await index.targets.others()).map((b) => ({
    collection: b.target.collection,
    store: b.store,
    complete: cur.state.phase !== 'migrating' || b.target.collection !== cur.state.next?.collection,
    chunking: b.target.chunking,
  }));
}
