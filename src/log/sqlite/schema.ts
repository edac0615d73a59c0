// The SQLite saga log's tables and connection settings. Kept apart from the log's logic so the
// schema reads in one place; docs/saga-log.md describes it.
import type Database from 'better-sqlite3';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

// Why an integer `rid`: rids grow with time, so new sagas land at the right edge of the B-trees.
// Keyed by the (random) text id instead, every commit dirtied pages all over the file and the log
// ran about 3x slower. The text id stays unique for idempotent start.
//
// Why one `saga_records` row per append, keyed by `lsn` (schema 4): every group commit appends to
// ~64 running sagas. Keyed by (rid, seq), those inserts fell into the last ~64 sagas' pages (16
// leaf pages of 4 KiB at c=64), and every commit wrote and fsynced most of them: 9.7 WAL frames
// per commit, 6.8 of them records. Keyed by the commit order, the rows of a commit go to the right
// edge; only the small (rid, first_seq) index entries fall into the running sagas' window. The
// records themselves are one compact text per append (@apex-memory/saga/log-kit, record-codec.ts).
//
// Schema 5 (operators' queries, docs/saga-log.md): each append's time (`at`, this process's
// clock), the saga's subject (`key`) and end time, the failed steps of each saga (a small side
// table: failures are rare, and the records themselves are packed text), and the indexes the
// filters read. Keyset pages run on `rid` (creation order), which every index ends with.
export const SCHEMA_VERSION = 5;
/** One row per append: records first_seq .. first_seq + n - 1 of one saga (@apex-memory/saga/log-kit, record-codec.ts). */
const RECORDS_TABLE = `
CREATE TABLE IF NOT EXISTS saga_records (
  lsn INTEGER PRIMARY KEY,
  saga_rid INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  n INTEGER NOT NULL,
  records TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS saga_records_by_saga ON saga_records (saga_rid, first_seq);
`;

/** Schema 5's additions to a schema-4 file; `at` and the saga columns are added before this. */
const OPERATOR_TABLES = `
CREATE TABLE IF NOT EXISTS saga_failed_steps (
  step TEXT NOT NULL,
  saga_rid INTEGER NOT NULL,
  PRIMARY KEY (step, saga_rid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS saga_failed_steps_by_saga ON saga_failed_steps (saga_rid);
CREATE INDEX IF NOT EXISTS sagas_status ON sagas (status);
CREATE INDEX IF NOT EXISTS sagas_created ON sagas (created_at);
CREATE INDEX IF NOT EXISTS sagas_key ON sagas (key) WHERE key IS NOT NULL;
CREATE INDEX IF NOT EXISTS sagas_reason_code ON sagas (json_extract(reason, '$.code')) WHERE reason IS NOT NULL;
CREATE INDEX IF NOT EXISTS sagas_ended ON sagas (ended_at) WHERE ended_at IS NOT NULL;
`;

/** Schema 4 -> 5 in place: old records keep a null time; old ended sagas end at their last update. */
function migrateTo5(db: Database.Database): void {
  db.exec(`ALTER TABLE sagas ADD COLUMN key TEXT; ALTER TABLE sagas ADD COLUMN ended_at INTEGER;
           ALTER TABLE saga_records ADD COLUMN at INTEGER;
           UPDATE sagas SET ended_at = updated_at WHERE status IN ('completed', 'compensated');
           ${OPERATOR_TABLES}
           INSERT OR IGNORE INTO saga_failed_steps (step, saga_rid)
             SELECT coalesce(json_extract(j.value, '$[1]'), json_extract(j.value, '$.step')), r.saga_rid
             FROM saga_records r, json_each(r.records) j
             WHERE json_extract(j.value, '$[0]') IN (2, 5) OR json_extract(j.value, '$.type') IN ('step_failed', 'compensation_failed');`);
}

export const SQLITE_SCHEMA = `
CREATE TABLE IF NOT EXISTS sagas (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
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
  meta TEXT,
  deadline_at INTEGER,
  key TEXT,
  ended_at INTEGER
);
-- Only sagas that can still be claimed are indexed: finished ones leave the index.
CREATE INDEX IF NOT EXISTS sagas_claimable ON sagas (status, lease_expires_at)
  WHERE status NOT IN ('completed', 'compensated');
${RECORDS_TABLE.replace('records TEXT NOT NULL\n', 'records TEXT NOT NULL,\n  at INTEGER\n')}
${OPERATOR_TABLES}`;

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
  // Pruned sagas (and the inline content of sagas logged before content by reference) are zeroed
  // in the file, not left in free pages (docs/erasure.md; `apex-memory vacuum` truncates the WAL).
  db.pragma('secure_delete = ON');
  db.pragma('cache_size = -32768'); // 32 MiB: the hot pages of a busy log stay in memory
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const hasTables = db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'sagas'").pluck().get() as number;
    // Version 2 -> 3: meta and deadline columns (nullable, so old rows stay valid).
    if (hasTables > 0 && version === 2) {
      db.exec('ALTER TABLE sagas ADD COLUMN meta TEXT; ALTER TABLE sagas ADD COLUMN deadline_at INTEGER;');
    }
    // Version 3 -> 4: one row per append; each old record becomes an append of one (a valid form).
    if (hasTables > 0 && (version === 2 || version === 3)) {
      db.exec(`ALTER TABLE saga_records RENAME TO saga_records_v3; ${RECORDS_TABLE}`);
      db.exec(`INSERT INTO saga_records (saga_rid, first_seq, n, records)
                 SELECT saga_rid, seq, 1, '[' || record || ']' FROM saga_records_v3 ORDER BY saga_rid, seq;
               DROP TABLE saga_records_v3;`);
    }
    if (hasTables > 0 && version >= 2 && version <= 4) {
      migrateTo5(db);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      return;
    }
    if (hasTables > 0 && version !== SCHEMA_VERSION) {
      throw new Error(`saga log file has schema version ${version}, this build needs ${SCHEMA_VERSION}; move the old file away`);
    }
    db.exec(SQLITE_SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  }).immediate();
}
