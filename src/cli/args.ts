// Option parsers shared by commands. Commander reports an InvalidArgumentError as a usage error
// (exit 2) naming the option. Integers go through the same check as numeric environment
// variables (src/config/numeric.ts): plain decimal digits within a stated range, no NaN.
import { InvalidArgumentError } from 'commander';
import { rangeProblem } from '../lib/int-range.js';

/** An integer from `min` to `max`; the error states the range. */
export function intInRange(min: number, max: number) {
  return (value: string): number => {
    const problem = rangeProblem(value, { min, max });
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    return Number(value.trim());
  };
}

export function positiveInt(max: number) {
  return intInRange(1, max);
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    const found = allowed.find((a) => a === value);
    if (found === undefined) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value.slice(0, 40)}"`);
    return found;
  };
}

const UNIT_MS_DAY = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: UNIT_MS_DAY };

/** 100 years: any longer age is a typo, and the arithmetic stays exact (no Infinity, no invalid Date). */
export const MAX_DURATION_MS = 36_500 * UNIT_MS_DAY;

/** A duration such as `90s`, `15m`, `12h` or `7d`, in milliseconds, at most 36500d. */
export function duration(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1_000) : NaN;
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
    throw new InvalidArgumentError(`expected a duration like 30m, 12h or 7d, from 0s to 36500d, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return ms;
}

/** Stored document ids have at most this many characters (src/ingest/limits.ts MAX_ID_CHARS). */
const MAX_DOCUMENT_ID_CHARS = 256;
/** Saga ids are engine UUIDs or `idem-<hex>`; the HTTP API takes at most 200 characters too. */
const MAX_SAGA_ID_CHARS = 200;
const CONTROL = /\p{Cc}/u;

/**
 * A document or saga id argument: no stored id is empty, longer than its limit or holds a control
 * character, so such an id is a usage error (exit 2) before any store sees it. A NUL reached
 * PostgreSQL (`get`, `delete`) and came back as STORE_PERMANENT (exit 1), and other control
 * characters were echoed raw in "not found" messages.
 */
function idArgument(maxChars: number) {
  return (value: string): string => {
    const chars = [...value].length;
    if (chars === 0) throw new InvalidArgumentError('must not be empty');
    if (chars > maxChars) throw new InvalidArgumentError(`at most ${maxChars} characters (got ${chars})`);
    if (CONTROL.test(value)) throw new InvalidArgumentError('must not contain control characters');
    return value;
  };
}

export const documentId = idArgument(MAX_DOCUMENT_ID_CHARS);
export const sagaId = idArgument(MAX_SAGA_ID_CHARS);

/** Control characters shown as \uXXXX escapes (newlines kept): text from the command line or a
 * file name echoed on a terminal must not carry escape sequences. */
export function escapeControls(text: string, keepNewlines = true): string {
  return text.replace(/\p{Cc}/gu, (c) => (keepNewlines && c === '\n' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
