// The SQLite saga log's tables and connection settings. Kept apart from the log's logic so the
// schema reads in one place; docs/saga-log.md describes it.
import type Database from 'better-sqlite3';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS sagas (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  status TEXT NOT NULL,
  input TEXT NOT NULL,
  owner TEXT,
  fencing_token INTEGER NOT NULL,
  lease_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  reason TEXT,
  -- seq of the next record: lets one UPDATE check fencing and order before records are inserted
  next_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sagas_status_created ON sagas (status, created_at, id);
CREATE TABLE IF NOT EXISTS saga_records (
  saga_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  type TEXT NOT NULL,
  record TEXT NOT NULL,
  PRIMARY KEY (saga_id, seq)
) WITHOUT ROWID;
`;

/**
 * WAL lets a second process (a CLI, a restarted worker after SIGKILL) read and write the same file;
 * busy_timeout makes it wait for the other writer instead of failing at once. synchronous=FULL
 * fsyncs the WAL at every commit: a committed append survives power loss. NORMAL only survives a
 * process crash, so it is used only when the config names it.
 */
export function configureConnection(db: Database.Database, synchronous: SqliteSynchronous, busyTimeoutMs: number): void {
  db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.transaction(() => db.exec(SQLITE_SCHEMA)).immediate();
}
