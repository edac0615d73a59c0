// `apex-memory delete <id>`: runs the delete saga over all four stores and reports its outcome.
// Exit 0 only when the document is gone (deleted now, or absent already).
import type { Command } from 'commander';
import { documentId } from './args.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { formatMs, renderPairs, toJson } from './output.js';
import { withApp } from './runtime.js';

export function registerDelete(program: Command): void {
  program
    .command('delete')
    .description('delete a document from all four stores (runs the delete saga)')
    .argument('<id>', 'document id', documentId)
    .option('--json', 'print the outcome as JSON on stdout')
    .action(
      exiting((id: string, flags: { json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const r = await app.writer.delete(id);
          const gone = r.action === 'absent' || r.status === 'completed';
          if (io.json) {
            io.out(toJson({ ok: gone, ...r }));
          } else {
            const outcome =
              r.action === 'absent' ? 'absent (nothing to delete)' : r.status === 'completed' ? 'deleted' : `${r.status}: NOT deleted`;
            const pairs: Array<[string, string]> = [
              ['document', r.docId],
              ['outcome', outcome],
              ['saga', r.sagaId ?? '-'],
              ['duration ms', formatMs(r.durationMs)],
            ];
            if (r.reason) pairs.push(['reason', `[${r.reason.code}] ${r.reason.message}`]);
            io.out(`\n${renderPairs(pairs)}`);
          }
          return gone ? EXIT_OK : EXIT_FAILED;
        }),
      ),
    );
}
