// Structured logs for long-running processes (worker, HTTP server): pino, one JSON object per
// line, with the saga id on every saga event. Secrets never reach a line: every string the logger
// formats passes through the project's one redaction helper (src/lib/redact.ts: credentials in
// URLs, password=/api_key= pairs, Authorization values), and fields with secret-looking names are
// redacted by pino before serialisation.
import { pino, type DestinationStream, type Logger } from 'pino';
import { redactCredentials } from '../lib/redact.js';
import type { SagaHooks } from '../saga/index.js';

export type { Logger } from 'pino';

const SECRET_KEYS = [
  'password',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'api_key',
  'authorization',
  'OPENAI_API_KEY',
  'QDRANT_API_KEY',
  'NEO4J_PASSWORD',
];
const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface LoggerOptions {
  /** Logger name: `worker`, `server`, ... */
  name: string;
  /** Default: APEX_LOG_LEVEL, else info. */
  level?: string;
  /** Default: stdout. */
  destination?: DestinationStream;
  /** Extra fields on every line (the worker's owner id, ...). */
  base?: Record<string, string>;
}

export function createLogger(opts: LoggerOptions): Logger {
  const wanted = opts.level ?? process.env.APEX_LOG_LEVEL ?? 'info';
  const level = LEVELS.includes(wanted) ? wanted : 'info';
  const options = {
    name: opts.name,
    level,
    base: { pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: SECRET_KEYS.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
    hooks: {
      // Every message string and string argument passes through maskSecrets.
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === 'string' ? maskSecrets(a) : a)),
        );
      },
    },
    formatters: {
      log: (obj: Record<string, unknown>) => maskFields(obj),
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** The redaction every logged string goes through (src/lib/redact.ts). */
export const maskSecrets = redactCredentials;

function maskFields(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) out[k] = typeof v === 'string' ? maskSecrets(v) : v;
  return out;
}

/**
 * Engine hooks -> log lines. A saga that did not complete is a warning (with its id and reason);
 * starts, completions and retries are debug lines, so a busy worker stays quiet at info.
 */
export function sagaLogHooks(log: Logger): SagaHooks {
  return {
    onSagaStart: (e) => log.debug({ sagaId: e.sagaId, saga: e.saga, resumed: e.resumed }, 'saga started'),
    onSagaEnd: (e) => {
      const fields = {
        sagaId: e.sagaId,
        saga: e.saga,
        status: e.status,
        durationMs: Math.round(e.durationMs),
        ...(e.reason ? { code: e.reason.code, reason: e.reason.message } : {}),
      };
      if (e.status === 'completed') log.debug(fields, 'saga completed');
      else log.warn(fields, `saga ${e.status}`);
    },
    onRetry: (e) =>
      log.debug(
        {
          sagaId: e.sagaId,
          saga: e.saga,
          step: e.step,
          phase: e.phase,
          attempt: e.attempt,
          delayMs: e.delayMs,
          code: e.error.code,
          reason: e.error.message,
        },
        'step retry',
      ),
    onCompensationEnd: (e) => {
      if (!e.ok)
        log.warn(
          { sagaId: e.sagaId, saga: e.saga, step: e.step, attempt: e.attempt, code: e.error?.code, reason: e.error?.message },
          'compensation failed',
        );
    },
    onFenced: (e) => log.info({ sagaId: e.sagaId, saga: e.saga }, 'saga taken over by another owner'),
  };
}
