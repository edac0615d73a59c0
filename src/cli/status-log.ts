// The saga log's part of `apex-memory status`. The log is a database too (PostgreSQL for a fleet)
// and can be down on its own: status must then still answer, say so (`sagaLog.ok: false`, exit 1)
// and report the stores, instead of failing to open (no JSON at all) or waiting forever on a
// server that accepts connections and never answers. Every wait on the log is bounded.
import { join } from 'node:path';
import type { Command } from 'commander';
import type { App } from '../app.js';
import { configFromEnv } from '../config/profile.js';
import { namespaceSchema } from '../config/namespace.js';
import type { ProfileDescription } from '../wiring.js';
import { redactCredentials, redactUrl } from '../lib/redact.js';
import { isPostgresUrl, openSagaLog } from '../log/open.js';
import type { SagaLogBackend } from '../saga/index.js';
import { globalOptions } from './runtime.js';
import { errorCode, errorMessage } from '../lib/errors.js';

export interface LogHealth {
  ok: boolean;
  detail: string;
}

/** How long status waits for the saga log to open (stores connect first, each within its own timeout). */
export function openBoundMs(storeTimeoutMs: number): number {
  return 5 * storeTimeoutMs;
}

class NoAnswer extends Error {
  constructor(readonly ms: number) {
    super(`no answer in ${ms} ms`);
  }
}

/** `work`, or a NoAnswer rejection after `ms` (the work itself is abandoned, not cancelled). */
export function bounded<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new NoAnswer(ms)), ms)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** One small read of the log within `timeoutMs`: what `/readyz` checks too. */
export async function probeSagaLog(log: Pick<SagaLogBackend, 'list'> & { readonly kind: string }, timeoutMs: number): Promise<LogHealth> {
  try {
    await bounded(log.list({}, { limit: 1 }), timeoutMs);
    return { ok: true, detail: `${log.kind} saga log answers` };
  } catch (err) {
    return { ok: false, detail: describeLogError(log.kind, err) };
  }
}

export function describeLogError(kind: string, err: unknown): string {
  if (err instanceof NoAnswer) return `${kind} saga log: ${err.message}`;
  const code = errorCode(err);
  return redactCredentials(`${kind} saga log: ${code !== undefined ? `[${code}] ` : ''}${errorMessage(err)}`);
}

export interface StatusApp {
  app: App;
  /** Set when the log could not be opened: the app then runs on a throwaway memory log. */
  logDown?: LogHealth;
  /** The profile to print (the real log's place, not the stand-in's). */
  profile: ProfileDescription;
  storeTimeoutMs: number;
}

/**
 * Opens the app for status. A PostgreSQL log is first opened alone, within openBoundMs: a server
 * that accepts and never answers would otherwise hold openApp forever (and, with embedded stores,
 * their data-dir lock with it). If the log cannot be opened (LOG_FAILURE: refused, starting up)
 * or does not answer, the stores are opened beside a throwaway memory log, so that their health
 * is still reported, and the log is reported down.
 */
export async function openForStatus(cmd: Command): Promise<StatusApp> {
  const { openApp } = await import('../app.js');
  const { dataDir } = globalOptions(cmd);
  // Malformed settings throw ConfigError here exactly as openApp would (exit 2).
  const config = configFromEnv(process.env, dataDir);
  const storeTimeoutMs = config.storeTimeoutMs ?? 10_000;
  const target = config.sagaLogUrl ?? join(config.dataDir, 'saga-log.db');
  const kind = isPostgresUrl(target) ? 'postgres' : 'sqlite';
  try {
    if (kind === 'postgres') {
      // A namespace's log is in its own schema: the probe must not create the default one.
      const schema = config.namespace !== undefined ? namespaceSchema(config.namespace) : undefined;
      const opening = openSagaLog(target, schema !== undefined ? { postgres: { schema } } : {});
      // Opened late after all: closed whenever that happens.
      void opening.then(
        (log) => log.close(),
        () => undefined,
      );
      await bounded(opening, openBoundMs(storeTimeoutMs));
    }
    const app = await openApp({ lenientConnect: true, config });
    return { app, profile: app.profile.describe(), storeTimeoutMs };
  } catch (err) {
    if (!(err instanceof NoAnswer) && errorCode(err) !== 'LOG_FAILURE') throw err;
    const app = await openApp({ lenientConnect: true, config: { ...config, sagaLogUrl: 'memory' } });
    const profile = {
      ...app.profile.describe(),
      sagaLog: `${kind} ${kind === 'postgres' ? redactUrl(target) : target} (DOWN)`,
      durability: 'unknown (the saga log is down)',
    };
    return { app, logDown: { ok: false, detail: describeLogError(kind, err) }, profile, storeTimeoutMs };
  }
}
