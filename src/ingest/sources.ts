// Where documents come from: files (.md, .txt, .jsonl), folders (recursively, in sorted order so
// that two runs over the same tree ingest in the same order) and stdin ("-": JSONL, or one plain
// text document when it does not start with "{"). One bad input never stops the stream: it is
// yielded as an error item and reading goes on with the next document.
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, sep } from 'node:path';
import { createReadStream } from 'node:fs';
import { DocumentError } from './errors.js';
import { parseJsonlLine, splitLines } from './jsonl.js';
import { resolveLimits, type IngestLimits } from './limits.js';
import { codePoints, idFromText, validateDocument, type ValidDocument } from './schema.js';
import { errorCode } from '../lib/errors.js';

export type SourceItem = { ok: true; doc: ValidDocument; source: string } | { ok: false; error: DocumentError; source: string };

export interface ReadOptions {
  limits?: Partial<IngestLimits>;
  /** Read for the input "-". Default: process.stdin. */
  stdin?: AsyncIterable<Buffer | string>;
}

const TEXT_EXTENSIONS = new Set(['.md', '.txt']);
const JSONL_EXTENSION = '.jsonl';
const STDIN_TITLE_CHARS = 100;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every document of `inputs`, in order. Ids: a file's path relative to its input root ("/"-separated;
 * a file given directly is its own root's child), a JSONL line's `id` or a sha256 prefix of its
 * text. An id seen earlier in the same call is rejected, naming both sources.
 */
export async function* readDocuments(inputs: string[], options: ReadOptions = {}): AsyncGenerator<SourceItem> {
  const limits = resolveLimits(options.limits);
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const items = input === '-' ? readStdin(options.stdin ?? process.stdin, limits) : readPath(input, limits);
    for await (const item of items) {
      if (!item.ok) {
        yield item;
        continue;
      }
      const first = seen.get(item.doc.id);
      if (first !== undefined) {
        const error = new DocumentError({
          field: 'id',
          reason: `duplicate id "${item.doc.id}" (first seen at ${first})`,
          source: item.source,
        });
        yield { ok: false, error, source: item.source };
        continue;
      }
      seen.set(item.doc.id, item.source);
      yield item;
    }
  }
}

async function* readPath(input: string, limits: IngestLimits): AsyncGenerator<SourceItem> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(input)).isDirectory();
  } catch (err) {
    yield sourceError(input, describeIoError(err));
    return;
  }
  if (isDirectory) {
    for await (const file of walk(input)) yield* readFileDocuments(file, relativeId(input, file), limits);
    return;
  }
  if (!isSupported(input)) {
    yield sourceError(input, 'unsupported file type (expected .md, .txt or .jsonl)');
    return;
  }
  yield* readFileDocuments(input, relativeId(dirname(input), input), limits);
}

/** Supported files under `dir`, depth-first in code-unit order; dot-files and dot-folders skipped.
 * Symlinked folders are not followed (a link cycle would never end); symlinked files are read. */
async function* walk(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // an unreadable sub-folder is skipped like any non-document entry
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if ((entry.isFile() || entry.isSymbolicLink()) && isSupported(entry.name)) yield path;
  }
}

function isSupported(path: string): boolean {
  const ext = extname(path).toLowerCase();
  return TEXT_EXTENSIONS.has(ext) || ext === JSONL_EXTENSION;
}

function relativeId(root: string, file: string): string {
  return relative(root, file).split(sep).join('/');
}

async function* readFileDocuments(file: string, id: string, limits: IngestLimits): AsyncGenerator<SourceItem> {
  if (extname(file).toLowerCase() === JSONL_EXTENSION) {
    yield* readJsonl(createReadStream(file), file, limits);
    return;
  }
  try {
    const size = (await stat(file)).size;
    // Checked before reading so that a huge file is never loaded into memory.
    if (size > limits.maxTextBytes) {
      throw new DocumentError({ field: 'text', limit: `at most ${limits.maxTextBytes} bytes (UTF-8)`, got: size, source: file });
    }
    const text = decodeUtf8(await readFile(file), file);
    const title = extname(file).toLowerCase() === '.md' ? (markdownTitle(text) ?? basename(file)) : basename(file);
    yield { ok: true, doc: validateDocument({ id, title, text }, { source: file, limits }), source: file };
  } catch (err) {
    yield itemFromError(err, file);
  }
}

async function* readJsonl(stream: AsyncIterable<Buffer | string>, name: string, limits: IngestLimits): AsyncGenerator<SourceItem> {
  try {
    for await (const line of splitLines(stream, limits.maxJsonlLineBytes)) {
      const source = `${name}:${line.lineNo}`;
      try {
        const doc = parseJsonlLine(line, source, limits);
        if (doc !== undefined) yield { ok: true, doc, source };
      } catch (err) {
        yield itemFromError(err, source);
      }
    }
  } catch (err) {
    yield itemFromError(err, name); // the stream itself failed (unreadable file); later inputs go on
  }
}

/** stdin: JSONL when the first non-blank byte is "{", else the whole input is one text document. */
async function* readStdin(stream: AsyncIterable<Buffer | string>, limits: IngestLimits): AsyncGenerator<SourceItem> {
  const iterator = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let firstByte: number | undefined;
  while (firstByte === undefined) {
    const next = await iterator.next();
    if (next.done === true) break;
    const buf = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
    head.push(buf);
    firstByte = firstSignificantByte(buf, head.length === 1);
  }
  const whole: AsyncIterable<Buffer> = {
    async *[Symbol.asyncIterator]() {
      yield* head;
      for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) {
        yield typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
      }
    },
  };
  if (firstByte === 0x7b /* { */) {
    yield* readJsonl(whole, 'stdin', limits);
    return;
  }
  try {
    const parts: Buffer[] = [];
    let size = 0;
    for await (const buf of whole) {
      size += buf.length;
      if (size <= limits.maxTextBytes) parts.push(buf); // past the limit: keep counting, stop keeping
    }
    if (size > limits.maxTextBytes) {
      throw new DocumentError({ field: 'text', limit: `at most ${limits.maxTextBytes} bytes (UTF-8)`, got: size, source: 'stdin' });
    }
    const text = decodeUtf8(Buffer.concat(parts, size), 'stdin');
    const title = markdownTitle(text) ?? firstLine(text) ?? 'stdin';
    yield { ok: true, doc: validateDocument({ id: idFromText(text), title, text }, { source: 'stdin', limits }), source: 'stdin' };
  } catch (err) {
    yield itemFromError(err, 'stdin');
  }
}

/** The first byte that is not whitespace, after a UTF-8 byte order mark at the start of the input. */
function firstSignificantByte(bytes: Buffer, atStart: boolean): number | undefined {
  const start = atStart && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = start; i < bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return undefined;
}

/** The first level-1 ATX heading ("# Title") outside code fences, without closing #s. */
export function markdownTitle(text: string): string | undefined {
  let inFence = false;
  for (const line of text.split('\n')) {
    if (/^\s{0,3}(```|~~~)/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const match = /^ {0,3}#[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*\r?$/.exec(line);
    const title = match?.[1]?.trim();
    if (title) return title;
  }
  return undefined;
}

function firstLine(text: string): string | undefined {
  const line = text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  if (line === undefined) return undefined;
  return codePoints(line) <= STDIN_TITLE_CHARS ? line : `${[...line].slice(0, STDIN_TITLE_CHARS - 1).join('')}…`;
}

function decodeUtf8(bytes: Buffer, source: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new DocumentError({ field: 'text', reason: 'invalid UTF-8', source });
  }
}

function itemFromError(err: unknown, source: string): SourceItem {
  if (err instanceof DocumentError) return { ok: false, error: err.source === undefined ? err.withSource(source) : err, source };
  return sourceError(source, describeIoError(err));
}

function sourceError(source: string, reason: string): SourceItem {
  return { ok: false, error: new DocumentError({ field: 'path', reason, source }, { code: 'DOC_SOURCE' }), source };
}

function describeIoError(err: unknown): string {
  const code = errorCode(err);
  if (code === 'ENOENT') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return code !== undefined ? `cannot read (${code})` : 'cannot read';
}
