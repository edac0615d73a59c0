// How the CLI turns a thrown error into one line on stderr and an exit code. Whether an error is
// expected (bad input, store, saga, log, embedder, usage: its code and message, never a stack
// trace) and its exit code come from the one error registry (src/errors/registry.ts). Anything
// else is a bug and keeps its stack so it can be reported.
// Every message is redacted first: driver messages may echo a connection string or a header.
import { redactCredentials } from '../lib/redact.js';
import { errorCode, errorMessage, markError } from '../lib/errors.js';
import { errorTraits, type CliErrorCode } from '../errors/registry.js';
import { escapeControls } from './args.js';

export type { CliErrorCode } from '../errors/registry.js';

/** Exit codes: 0 success, 1 the operation ran and failed (or found problems), 2 usage/config. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** Interrupted by SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    markError(this);
  }
}

export interface DescribedError {
  code: string;
  message: string;
  /** true for errors with a registered, expected code: no stack trace is printed. */
  expected: boolean;
  exitCode: number;
}

export function describeError(err: unknown): DescribedError {
  const code = displayCode(err);
  // A code nobody registered (Node's ENOENT, a driver's) is shown, but counts as unexpected.
  const traits = errorTraits(code);
  return {
    code: code ?? 'INTERNAL',
    message: oneLine(redactCredentials(errorMessage(err))),
    expected: traits?.expected ?? false,
    exitCode: traits?.exit ?? EXIT_FAILED,
  };
}

/** The line printed on stderr; unexpected errors add their stack (without the first line). */
export function formatError(err: unknown): string {
  const d = describeError(err);
  const line = `apex-memory: error [${d.code}]: ${d.message}`;
  if (d.expected || !(err instanceof Error) || err.stack === undefined) return line;
  const frames = err.stack.split('\n').filter((l) => l.trimStart().startsWith('at '));
  return [line, ...frames].join('\n');
}

/** Only codes shaped like ours are printed (a driver's numeric SQLSTATE is not a code to show). */
function displayCode(err: unknown): string | undefined {
  const code = errorCode(err);
  return code !== undefined && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : undefined;
}

/** One line, other control characters escaped: messages echo ids and file names. */
function oneLine(text: string): string {
  return escapeControls(text.replace(/\s*\n\s*/g, ' ').trim(), false);
}
