// Embedded stand-in for PostgreSQL: PGlite is PostgreSQL compiled to WebAssembly, so the shared
// statements in postgres/sql-store.ts run unchanged against a data directory (e.g. .apex/postgres).
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { SqlRelationalStore } from '../postgres/sql-store.js';
import { preparedQuery } from './prepared.js';
import { createPglite } from './template.js';
import type { SqlDatabase, SqlExecutor } from '../postgres/sql-store.js';
import { DEFAULT_TIMEOUT_MS } from '../timeout.js';

export interface PgliteRelationalOptions {
  /** Data directory; created when missing. Omit for an in-memory database (tests). */
  dir?: string;
  timeoutMs?: number;
}

interface PgliteQueryable {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
}

function executorOf(target: PgliteQueryable): SqlExecutor {
  return {
    async query<R extends object>(sql: string, params?: unknown[]): Promise<R[]> {
      return (await target.query<R>(sql, params)).rows;
    },
  };
}

/** Opens (creating if needed) the PGlite database and its schema: `openPgliteRelational('.apex/postgres')`. */
export async function openPgliteRelational(dirOrOptions: string | PgliteRelationalOptions = {}): Promise<SqlRelationalStore> {
  const options: PgliteRelationalOptions = typeof dirOrOptions === 'string' ? { dir: dirOrOptions } : dirOrOptions;
  if (options.dir) mkdirSync(options.dir, { recursive: true });
  const db = options.dir ? await createPglite(options.dir) : await PGlite.create();
  const prepared = preparedQuery(db);
  const database: SqlDatabase = {
    // Single statements (the ingest path's five per document) as prepared statements (pglite-prepared.ts).
    query: <R extends object>(sql: string, params?: unknown[]) => prepared<R>(sql, params),
    // PGlite runs one statement at a time; its transaction() holds the engine for the callback.
    transaction: (fn) => db.transaction((tx) => fn(executorOf(tx))),
  };
  const store = new SqlRelationalStore({
    backend: 'pglite',
    db: database,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    describe: () => (options.dir ? `file ${options.dir}` : 'memory'),
    shutdown: () => db.close(),
  });
  await store.connect();
  return store;
}
