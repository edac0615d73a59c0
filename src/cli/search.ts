// `apex-memory search <text...>`: nearest chunks by embedding, only from committed documents.
import type { Command } from 'commander';
import { positiveInt } from './args.js';
import { exiting } from './command.js';
import { EXIT_OK } from './errors.js';
import { toJson } from './output.js';
import { withApp } from './runtime.js';

const SNIPPET_CHARS = 160;

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('find committed documents by meaning (vector search), with their entities')
    .argument('<text...>', 'what to look for (the words are joined with spaces)')
    .option('-n, --limit <n>', 'documents to return', positiveInt(100), 5)
    .option('--json', 'print the hits as JSON on stdout')
    .action(
      exiting((words: string[], flags: { limit: number; json?: boolean }, cmd: Command) =>
        withApp(cmd, { json: flags.json === true }, async (app, io) => {
          const query = words.join(' ');
          const hits = await app.search(query, flags.limit);
          if (io.json) {
            io.out(toJson({ query, hits }));
            return EXIT_OK;
          }
          io.out(`\n${hits.length} result(s) for "${query}"`);
          hits.forEach((h, i) => {
            const snippet = h.snippet.replace(/\s+/g, ' ');
            io.out(`\n${i + 1}. ${h.id}  (score ${h.score.toFixed(3)})`);
            io.out(`   ${h.title}`);
            io.out(`   ${snippet.length > SNIPPET_CHARS ? `${snippet.slice(0, SNIPPET_CHARS - 1)}…` : snippet}`);
            io.out(`   entities: ${h.entities.join(', ') || '-'}`);
          });
          // No hit is an answer, not a failure: exit 0.
          return EXIT_OK;
        }),
      ),
    );
}
