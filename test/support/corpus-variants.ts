// Copies of the sample corpus for tests that need the same documents with other content: every
// Markdown file of examples/corpus with a marker line appended (ids stay the same, content and
// hash change). The JSONL part is left out: the Markdown files are enough documents.
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const CORPUS = join(ROOT, 'examples/corpus');

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...markdownFiles(p));
    else if (name.endsWith('.md')) out.push(p);
  }
  return out;
}

/**
 * A copy of the corpus's Markdown documents with `marker` appended to each (none: unchanged).
 * `copies` > 1 adds that many more copies under `more-<n>/` (their own ids): a run long enough to
 * be killed mid-way, or to be still running when a second process starts, however fast ingest is
 * (the embedded profile went from ~40 to ~160 documents/s and the 304 documents took 1.3 s).
 */
export function corpusVariant(marker?: string, copies = 1): { dir: string; files: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'apex-corpus-'));
  for (const name of readdirSync(CORPUS)) {
    if (!statSync(join(CORPUS, name)).isDirectory()) continue;
    cpSync(join(CORPUS, name), join(dir, name), { recursive: true });
    for (let n = 2; n <= copies; n++) cpSync(join(CORPUS, name), join(dir, `more-${n}`, name), { recursive: true });
  }
  const files = markdownFiles(dir);
  if (marker !== undefined) for (const f of files) writeFileSync(f, `${readFileSync(f, 'utf8').trimEnd()}\n\n${marker}\n`);
  return { dir, files };
}
