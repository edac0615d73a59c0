// Runs the real `apex-memory` CLI as a child process for the e2e tests. By default on the embedded
// profile: no server URL (or other setting) leaks in from the caller's shell unless a test passes
// it. serversEnv() gives the variables of the servers profile for a realStores() config.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/apex-memory.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The servers-profile variables for a config (test/support/real-stores.ts), as a user sets them. */
export function serversEnv(c: {
  dataDir: string;
  databaseUrl?: string;
  neo4jUrl?: string;
  qdrantUrl?: string;
  redisUrl?: string;
  sagaLogUrl?: string;
}): Record<string, string> {
  const env: Record<string, string> = { APEX_DATA_DIR: c.dataDir };
  const set = (k: string, v: string | undefined): void => {
    if (v) env[k] = v;
  };
  set('DATABASE_URL', c.databaseUrl);
  set('NEO4J_URL', c.neo4jUrl);
  set('QDRANT_URL', c.qdrantUrl);
  set('REDIS_URL', c.redisUrl);
  set('SAGA_LOG_URL', c.sagaLogUrl);
  return env;
}

const LEAKY = ['DATABASE_URL', 'NEO4J_URL', 'QDRANT_URL', 'REDIS_URL', 'SAGA_LOG_URL', 'APEX_DATA_DIR', 'EMBEDDER', 'APEX_SAGA_LOG_SYNC'];

export function embeddedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of LEAKY) delete env[k];
  return { ...env, ...extra };
}

/** Runs the CLI to completion (blocking: not for tests whose own process serves a stub). */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: embeddedEnv(opts.env ?? {}),
    encoding: 'utf8',
    timeout: 120_000,
    ...(opts.input === undefined ? {} : { input: opts.input }),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, on one data dir. */
export function cliIn(dataDir: string, args: string[], opts: { env?: Record<string, string> } = {}): Run {
  return runCli(['--data-dir', dataDir, ...args], opts);
}

export function json<T>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    assert.fail(`stdout is not pure JSON:\n${r.stdout.slice(0, 500)}\nstderr:\n${r.stderr.slice(0, 500)}`);
  }
}
