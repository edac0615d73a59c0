// JSON Lines: one document per line. Lines are split on raw bytes (not decoded text) so that each
// line's UTF-8 can be checked on its own, and a single huge line is skipped with an error instead of
// being buffered whole: memory stays bounded by the line limit whatever the input.
import { DocumentError } from './errors.js';
import { validateDocument, type ValidDocument } from './schema.js';
import type { IngestLimits } from './limits.js';

export type RawLine =
  | { lineNo: number; bytes: Buffer }
  /** The line was longer than the limit; its bytes were counted and dropped. */
  | { lineNo: number; tooLongBytes: number };

const NEWLINE = 0x0a;

/** Splits a byte stream into lines (1-based numbers, trailing \r removed, blank lines included). */
export async function* splitLines(stream: AsyncIterable<Buffer | string>, maxLineBytes: number): AsyncGenerator<RawLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let overflow = false;
  let lineNo = 0;
  const finish = (): RawLine => {
    lineNo++;
    if (overflow) {
      const line = { lineNo, tooLongBytes: size };
      parts = [];
      size = 0;
      overflow = false;
      return line;
    }
    let bytes = Buffer.concat(parts, size);
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    parts = [];
    size = 0;
    return { lineNo, bytes };
  };
  const append = (piece: Buffer): void => {
    size += piece.length;
    if (overflow) return;
    if (size > maxLineBytes) {
      overflow = true;
      parts = [];
      return;
    }
    parts.push(piece);
  };

  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      append(buf.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < buf.length) append(buf.subarray(start));
  }
  if (size > 0 || overflow) yield finish();
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes, parses and validates one line; undefined for a blank line. Throws DocumentError. */
export function parseJsonlLine(line: RawLine, source: string, limits: IngestLimits): ValidDocument | undefined {
  if ('tooLongBytes' in line) {
    throw new DocumentError({ field: 'line', limit: `at most ${limits.maxJsonlLineBytes} bytes`, got: line.tooLongBytes, source });
  }
  let text: string;
  try {
    text = utf8.decode(line.bytes);
  } catch {
    throw new DocumentError({ field: 'line', reason: 'invalid UTF-8', source });
  }
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message.slice(0, 120) : 'parse error';
    throw new DocumentError({ field: 'line', reason: `not valid JSON (${detail})`, source });
  }
  return validateDocument(json, { source, limits });
}
