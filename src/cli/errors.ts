// How the CLI turns a thrown error into one line on stderr and an exit code. Errors that carry a
// known code (bad input, store, saga, log, embedder, usage) are expected: they get their code and
// message, never a stack trace. Anything else is a bug and keeps its stack so it can be reported.
// Every message is redacted first: driver messages may echo a connection string or a header.
import { redactCredentials } from '../config/redact.js';
import { escapeControls } from './args.js';

export type CliErrorCode =
  | 'CLI_USAGE' // a flag or argument is invalid
  | 'CLI_CONFIG' // the environment or data directory is unusable
  | 'CLI_NOT_FOUND'; // the document or saga named does not exist

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
  }
}

// DATA_DIR_*: the embedded data dir is locked by another process (src/config/data-dir-lock.ts), an
// expected, documented refusal; it printed a stack trace until the CLI fuzz test caught it.
const EXPECTED_PREFIXES = ['CLI_', 'CONFIG_', 'DOC_', 'STORE_', 'SAGA_', 'STEP_', 'LOG_', 'EMBED_', 'DATA_DIR_'];
/** CONFIG_INVALID: a malformed setting such as APEX_STORE_TIMEOUT_MS=abc (src/config/numeric.ts). */
const USAGE_CODES = new Set(['CLI_USAGE', 'CLI_CONFIG', 'CONFIG_INVALID', 'EMBED_CONFIG', 'SAGA_UNKNOWN_DEFINITION', 'SAGA_QUERY_INVALID']);

export interface DescribedError {
  code: string;
  message: string;
  /** true for errors with a known code: no stack trace is printed. */
  expected: boolean;
  exitCode: number;
}

export function describeError(err: unknown): DescribedError {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const expected = code !== undefined && EXPECTED_PREFIXES.some((p) => code.startsWith(p));
  return {
    code: code ?? 'INTERNAL',
    message: oneLine(redactCredentials(message)),
    expected,
    exitCode: code !== undefined && USAGE_CODES.has(code) ? EXIT_USAGE : EXIT_FAILED,
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

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]+$/.test(code) ? code : undefined;
}

/** One line, other control characters escaped: messages echo ids and file names. */
function oneLine(text: string): string {
  return escapeControls(text.replace(/\s*\n\s*/g, ' ').trim(), false);
}
