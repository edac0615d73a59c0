// Shared opening and error classification for the SQLite stand-ins (graph, vector, cache). Each
// stand-in gets its own file so each can fail on its own, like the servers they replace.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { isStoreError, StoreError } from '../errors.js';
import type { StoreName } from '../types.js';
import { failed, OK, type MemberOutcome } from '../batch-types.js';
import { errorCode } from '../../lib/errors.js';

export type SqliteDatabase = Database.Database;
export type SqliteStatement = Database.Statement;

/**
 * A prepared-statement cache for one database: `sql(text)` prepares each text once. The stand-ins
 * run the same few statements per document, and better-sqlite3's prepare (SQLite parse + plan)
 * cost more than the statement itself on the ingest path.
 */
export function statementCache(db: SqliteDatabase): (text: string) => SqliteStatement {
  const cache = new Map<string, SqliteStatement>();
  return (text) => {
    let statement = cache.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      cache.set(text, statement);
    }
    return statement;
  };
}

/** Opens `file` (or memory when ':memory:') in WAL mode and runs the idempotent DDL. */
export function openSqliteFile(file: string, ddl: readonly string[]): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  // Erasure (docs/erasure.md): deleted content is overwritten with zeros in the page, not left in
  // a free page or the page's free space where the file's bytes would still show it.
  db.pragma('secure_delete = ON');
  // Another process (CLI + worker) may hold the write lock briefly; wait instead of failing.
  db.pragma('busy_timeout = 5000');
  for (const statement of ddl) db.exec(statement);
  return db;
}

/** SQLITE_BUSY / SQLITE_LOCKED can succeed on retry; everything else will not. */
export function classifySqliteError(store: StoreName, err: unknown, what: string): StoreError {
  if (isStoreError(err)) return err;
  const code = errorCode(err) ?? '';
  const message = `${what} failed${code ? ` (${code})` : ''}: ${err instanceof Error ? err.message : String(err)}`;
  const transient = code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || code === 'SQLITE_IOERR';
  return new StoreError(store, transient ? 'STORE_TRANSIENT' : 'STORE_PERMANENT', message, { cause: err });
}

/** Runs a synchronous SQLite call behind the async store interface, classifying its errors. */
export async function runSqlite<T>(store: StoreName, what: string, work: () => T): Promise<T> {
  try {
    return work();
  } catch (err) {
    throw classifySqliteError(store, err, what);
  }
}

/**
 * A batched call of a stand-in (store group commit): one SQLite transaction (one WAL commit) for
 * all members, each member in its own savepoint (a nested better-sqlite3 transaction), so a member
 * that throws rolls back alone and fails alone, as its per-document call would.
 */
export async function runSqliteBatch<I>(
  store: StoreName,
  what: string,
  db: SqliteDatabase,
  items: readonly I[],
  each: (item: I) => void,
): Promise<Array<MemberOutcome<void>>> {
  return runSqlite(store, what, () => {
    const out: Array<MemberOutcome<void>> = [];
    db.transaction(() => {
      for (const item of items) {
        try {
          db.transaction(() => each(item))();
          out.push(OK);
        } catch (err) {
          out.push(failed(classifySqliteError(store, err, what)));
        }
      }
    })();
    return out;
  });
}

/**
 * After a document's erasure: secure_delete zeroed the database pages, but the WAL still holds the
 * page images written before (and the deleted bytes in them). A TRUNCATE checkpoint copies the WAL
 * into the database and empties the WAL file. Returns false when another connection's read kept
 * it from completing (then `apex-memory vacuum` finishes the job).
 */
export function truncateWal(db: SqliteDatabase): boolean {
  if (db.memory) return true;
  const r = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  return (r[0]?.busy ?? 0) === 0;
}

/** apex-memory vacuum: rebuilds the file without free pages, then empties the WAL. */
export function vacuumFile(db: SqliteDatabase): string {
  if (db.memory) return 'in memory: nothing to do';
  db.exec('VACUUM');
  return truncateWal(db) ? 'VACUUM; WAL truncated' : 'VACUUM; WAL NOT truncated (another connection is reading: run again)';
}
