// `apex-memory get <id>`: the committed version of one document, as readers see it.
import type { Command } from 'commander';
import { getDocument } from '../ingest/read.js';
import { documentId } from './args.js';
import { exiting } from './command.js';
import { EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderPairs, toJson } from './output.js';
import { withApp } from './runtime.js';

export function registerGet(program: Command): void {
  program
    .command('get')
    .description('show the committed version of a document (text, chunks, entities, cache state)')
    .argument('<id>', 'document id (a path relative to the ingested folder, or a JSONL id)', documentId)
    .option('--json', 'print the document as JSON on stdout')
    .action(
      exiting((id: string, flags: { json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const doc = await getDocument(app.stores, id, (await app.index?.record.current())?.state.active.chunking);
          if (!doc) {
            if (io.json) io.out(toJson({ found: false, id }));
            io.err(`apex-memory: not found [CLI_NOT_FOUND]: no committed document "${id}"`);
            return EXIT_FAILED;
          }
          if (io.json) {
            io.out(toJson({ found: true, ...doc }));
            return EXIT_OK;
          }
          io.out(
            `\n${renderPairs([
              ['id', doc.id],
              ['title', doc.title],
              ['version', doc.contentSha256],
              ['updated', doc.updatedAt],
              ['chunks', doc.chunks],
              ['cached', doc.cached ? 'yes (redis holds this version)' : 'no'],
              ['metadata', JSON.stringify(doc.metadata)],
              ['entities', doc.entities.join(', ') || '-'],
            ])}`,
          );
          io.out(`\n${doc.text}`);
          return EXIT_OK;
        }),
      ),
    );
}
