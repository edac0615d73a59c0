// `apex-memory ingest --submit`: queues each document's ingest saga as `pending` in the saga log
// instead of running it here; `apex-memory worker` processes (a fleet sharing a PostgreSQL saga
// log) claim and run them. Bad input is rejected here, before anything is queued.
import type { App } from '../app.js';
import { isDocumentError } from '../ingest/errors.js';
import { readDocuments } from '../ingest/sources.js';
import { submitIngest } from '../fleet/submit.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { profileLines, renderTable, toJson } from './output.js';
import type { CommandIo } from './runtime.js';

export async function submitAll(app: App, io: CommandIo, paths: string[]): Promise<number> {
  const counts = { queued: 0, alreadyQueued: 0, unchanged: 0, rejected: 0 };
  const rejected: Array<{ source: string; message: string }> = [];
  const queued: Array<{ docId: string; sagaId: string }> = [];
  for await (const item of readDocuments(paths)) {
    if (!item.ok) {
      counts.rejected++;
      rejected.push({ source: item.source, message: item.error.message });
      continue;
    }
    try {
      const r = await submitIngest(app, item.doc);
      if (r.action === 'unchanged') counts.unchanged++;
      else if (r.queued) counts.queued++;
      else counts.alreadyQueued++;
      if (r.sagaId) queued.push({ docId: r.docId, sagaId: r.sagaId });
    } catch (err) {
      if (!isDocumentError(err)) throw err;
      counts.rejected++;
      rejected.push({ source: item.source, message: err.message });
    }
  }
  if (io.json) {
    io.out(toJson({ ok: counts.rejected === 0, submitted: true, ...counts, sagas: queued, failures: rejected, profile: io.profile }));
  } else {
    for (const r of rejected.slice(0, 20)) io.out(`rejected ${r.source}: ${r.message}`);
    if (rejected.length > 20) io.out(`... and ${rejected.length - 20} more (--json lists all)`);
    io.out(
      `\n${renderTable(
        [{ header: 'submit' }, { header: 'documents' }],
        [
          ['queued for workers', String(counts.queued)],
          ['already queued', String(counts.alreadyQueued)],
          ['unchanged (nothing to do)', String(counts.unchanged)],
          ['rejected', String(counts.rejected)],
        ],
      )}`,
    );
    io.out('run `apex-memory worker` (same SAGA_LOG_URL) to process the queue; `apex-memory sagas list --status pending` shows it');
    io.out(profileLines(io.profile));
  }
  return counts.rejected === 0 ? EXIT_OK : EXIT_FAILED;
}
