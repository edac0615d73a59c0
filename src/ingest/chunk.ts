// Splits a document's text into chunks for embedding and the graph. Deterministic (same text and
// limits, same chunks: chunk ids and vector point ids derive from the index), paragraph-aware (a
// paragraph is never cut while it fits), and safe for any Unicode: a cut never falls inside a
// surrogate pair. Whitespace at a cut is dropped; no other character is ever lost or added.
import { DocumentError } from './errors.js';
import { resolveLimits, type IngestLimits } from './limits.js';

export type ChunkOptions = Partial<Pick<IngestLimits, 'chunkTargetChars' | 'chunkMaxChars' | 'maxChunksPerDocument'>>;

const PARAGRAPH_BREAK = /\n[ \t\r\f\v]*\n/;
const SENTENCE_END = /[.!?…。！？][)"'’”\]]*$/u;

/**
 * Chunks of at most `chunkMaxChars` UTF-16 units, packed up to about `chunkTargetChars` from whole
 * paragraphs. Returns at least one chunk for any text that is not empty; throws a DocumentError
 * (field "text") when the text needs more than `maxChunksPerDocument` chunks.
 */
export function chunkText(text: string, options: ChunkOptions & { source?: string } = {}): string[] {
  const limits = resolveLimits({
    chunkTargetChars: options.chunkTargetChars,
    chunkMaxChars: options.chunkMaxChars,
    maxChunksPerDocument: options.maxChunksPerDocument,
  });
  const target = limits.chunkTargetChars;
  const max = limits.chunkMaxChars;
  const chunks: string[] = [];
  const push = (chunk: string): void => {
    chunks.push(chunk);
    if (chunks.length > limits.maxChunksPerDocument) {
      throw new DocumentError({
        field: 'text',
        limit: `at most ${limits.maxChunksPerDocument} chunks`,
        // No "got": counting exactly would mean chunking all of a hostile input.
        ...(options.source === undefined ? {} : { source: options.source }),
      });
    }
  };

  let current = '';
  for (const paragraph of text.split(PARAGRAPH_BREAK)) {
    for (const piece of splitLong(paragraph.trim(), target, max)) {
      if (current === '') current = piece;
      else if (current.length + 2 + piece.length <= target) current = `${current}\n\n${piece}`;
      else {
        push(current);
        current = piece;
      }
    }
  }
  if (current !== '') push(current);
  // Whitespace-only text has no paragraphs; it still gets a chunk so that no document is empty.
  if (chunks.length === 0 && text.length > 0) {
    for (const piece of hardSplit(text, max)) push(piece);
  }
  return chunks;
}

/** Splits one paragraph into pieces of at most `max`, cutting near `target` at the best boundary. */
function splitLong(paragraph: string, target: number, max: number): string[] {
  const pieces: string[] = [];
  let rest = paragraph;
  while (rest.length > max) {
    const cut = findCut(rest, target, max);
    const piece = rest.slice(0, cut).trimEnd();
    if (piece !== '') pieces.push(piece);
    rest = rest.slice(cut).trimStart();
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

/**
 * Where to cut `s` (longer than `max`): after the last sentence end, else at the last whitespace,
 * looking first in [target/2, target] and then up to `max`; a hard cut at `max` when there is no
 * whitespace at all (long URLs, CJK text without spaces).
 */
function findCut(s: string, target: number, max: number): number {
  const lo = Math.max(1, Math.floor(target / 2));
  for (const hi of [target, max]) {
    const sentence = lastBreak(s, lo, hi, true);
    if (sentence > 0) return sentence;
  }
  for (const hi of [target, max]) {
    const space = lastBreak(s, lo, hi, false);
    if (space > 0) return space;
  }
  const space = lastBreak(s, 1, max, false);
  if (space > 0) return space;
  return safeCut(s, max);
}

/** Largest i in [lo, hi] such that s[i] is whitespace (and, if asked, s[..i] ends a sentence); 0 if none. */
function lastBreak(s: string, lo: number, hi: number, sentence: boolean): number {
  for (let i = Math.min(hi, s.length - 1); i >= lo; i--) {
    if (!/\s/.test(s.charAt(i))) continue;
    if (!sentence || SENTENCE_END.test(s.slice(Math.max(0, i - 4), i))) return i;
  }
  return 0;
}

/** `at`, moved back by one when it would separate a high surrogate from its low surrogate. */
function safeCut(s: string, at: number): number {
  const before = s.charCodeAt(at - 1);
  const after = s.charCodeAt(at);
  const splitsPair = before >= 0xd800 && before <= 0xdbff && after >= 0xdc00 && after <= 0xdfff;
  return splitsPair ? at - 1 : at;
}

function hardSplit(s: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = s;
  while (rest.length > max) {
    const cut = safeCut(rest, max);
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}
