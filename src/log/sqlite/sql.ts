// The SQLite saga log's prepared statements, created once per connection. Appends address a saga
// by its integer `rid` (see sqlite-schema.ts), everything else by its text id.
import type Database from 'better-sqlite3';
import type { ErrorInfo, SagaStatus, SagaSummary } from '../../saga/index.js';

/** The summary columns, in SUMMARY_COLUMNS order. */
export type SummaryRow = [string, string, number, SagaStatus, string | null, number, number | null, number, number, string | null];
export const SUMMARY_COLUMNS = 'id, name, version, status, owner, fencing_token, lease_expires_at, created_at, updated_at, reason';

/** A row that starts with SUMMARY_COLUMNS (the listing adds columns after them). */
export function toSummary(row: readonly [...SummaryRow, ...unknown[]]): SagaSummary {
  return {
    sagaId: row[0],
    name: row[1],
    version: row[2],
    status: row[3],
    owner: row[4],
    fencingToken: row[5],
    leaseExpiresAt: row[6],
    createdAt: row[7],
    updatedAt: row[8],
    reason: row[9] === null ? null : (JSON.parse(row[9]) as ErrorInfo),
  };
}

const NOT_FINAL = "status NOT IN ('completed', 'compensated')";

/** Named so that the declaration build can refer to it. */
export interface SqliteStatements {
  insertSaga: Database.Statement;
  summary: Database.Statement;
  loadSaga: Database.Statement;
  loadRecords: Database.Statement;
  ridOf: Database.Statement;
  tokenOf: Database.Statement;
  nextSeq: Database.Statement;
  updateState: Database.Statement;
  claimable: Database.Statement;
  takeOver: Database.Statement;
  takeStuck: Database.Statement;
  renew: Database.Statement;
  takeOne: Database.Statement;
  owners: Database.Statement;
  releaseUntil: Database.Statement;
  holder: Database.Statement;
  release: Database.Statement;
  insertRecords: Database.Statement;
  insertFailed: Database.Statement;
  deleteFailed: Database.Statement;
  prunable: Database.Statement;
  deleteRecords: Database.Statement;
  deleteSaga: Database.Statement;
}

export function prepareStatements(db: Database.Database): SqliteStatements {
  return {
    insertSaga: db.prepare(
      `INSERT INTO sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, meta, deadline_at, key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    summary: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM sagas WHERE id = ?`).raw(),
    loadSaga: db.prepare(`SELECT ${SUMMARY_COLUMNS}, input, meta, deadline_at, key, ended_at FROM sagas WHERE id = ?`).raw(),
    loadRecords: db
      .prepare('SELECT records, n, at FROM saga_records WHERE saga_rid = (SELECT rid FROM sagas WHERE id = ?) ORDER BY first_seq')
      .raw(),
    ridOf: db.prepare('SELECT rid FROM sagas WHERE id = ?').pluck(),
    // An append only reads the saga row (token, next seq): two point lookups at the hot right
    // edge of the B-trees.
    tokenOf: db.prepare('SELECT fencing_token FROM sagas WHERE rid = ?').pluck(),
    nextSeq: db
      .prepare('SELECT coalesce((SELECT first_seq + n FROM saga_records WHERE saga_rid = ? ORDER BY first_seq DESC LIMIT 1), 0)')
      .pluck(),
    // ended_at: set once, by the append that makes the saga final (completed/compensated are final).
    updateState: db.prepare(
      `UPDATE sagas SET status = coalesce(@status, status), reason = coalesce(@reason, reason),
         lease_expires_at = coalesce(@lease, lease_expires_at), updated_at = @now,
         ended_at = CASE WHEN @status IN ('completed', 'compensated') THEN coalesce(ended_at, @now) ELSE ended_at END
       WHERE rid = @rid`,
    ),
    // From the sagas_ended index, oldest ended first; stuck and unfinished sagas have no ended_at.
    prunable: db.prepare('SELECT rid FROM sagas WHERE ended_at < ? ORDER BY ended_at LIMIT ?').pluck(),
    insertFailed: db.prepare('INSERT OR IGNORE INTO saga_failed_steps (step, saga_rid) VALUES (?, ?)'),
    deleteFailed: db.prepare('DELETE FROM saga_failed_steps WHERE saga_rid = ?'),
    deleteRecords: db.prepare('DELETE FROM saga_records WHERE saga_rid = ?'),
    deleteSaga: db.prepare('DELETE FROM sagas WHERE rid = ?'),
    // One row per append, whatever its size (sqlite-schema.ts); lsn is the rowid, given by SQLite.
    insertRecords: db.prepare('INSERT INTO saga_records (saga_rid, first_seq, n, records, at) VALUES (?, ?, ?, ?, ?)'),
    claimable: db
      .prepare(
        `SELECT id, owner FROM sagas
         WHERE (status IN ('running', 'compensating') OR (@pending = 1 AND status = 'pending'))
           AND (lease_expires_at IS NULL OR lease_expires_at <= @now
                OR (@dead IS NOT NULL AND status <> 'pending' AND owner IN (SELECT value FROM json_each(@dead))))
           AND (@names IS NULL OR name IN (SELECT value FROM json_each(@names)))
           AND (@defs IS NULL OR (name || '@' || version) IN (SELECT value FROM json_each(@defs)))
         ORDER BY rid LIMIT @limit`,
      )
      .raw(),
    takeOne: db
      .prepare(
        `UPDATE sagas SET owner = @owner, fencing_token = fencing_token + 1, lease_expires_at = @lease, updated_at = @now
         WHERE id = @id AND status IN ('pending', 'running', 'compensating')
           AND (lease_expires_at IS NULL OR lease_expires_at <= @now OR @force = 1
                OR (@heldToken IS NOT NULL AND fencing_token = @heldToken AND owner IS @heldOwner))
         RETURNING ${SUMMARY_COLUMNS}`,
      )
      .raw(),
    owners: db
      .prepare(
        `SELECT owner, count(*) FROM sagas WHERE status IN ('running', 'compensating') AND owner IS NOT NULL
           AND lease_expires_at > ? GROUP BY owner`,
      )
      .raw(),
    releaseUntil: db.prepare(
      `UPDATE sagas SET lease_expires_at = ?, owner = NULL, updated_at = ?
       WHERE id = ? AND fencing_token = ? AND owner = ? AND ${NOT_FINAL}`,
    ),
    takeOver: db
      .prepare(
        `UPDATE sagas SET owner = ?, fencing_token = fencing_token + 1, lease_expires_at = ?, updated_at = ?
         WHERE id = ? RETURNING ${SUMMARY_COLUMNS}`,
      )
      .raw(),
    takeStuck: db
      .prepare(
        `UPDATE sagas SET owner = ?, fencing_token = fencing_token + 1, lease_expires_at = ?, updated_at = ?
         WHERE id = ? AND status = 'stuck' AND (lease_expires_at IS NULL OR lease_expires_at <= ?) RETURNING ${SUMMARY_COLUMNS}`,
      )
      .raw(),
    renew: db.prepare(
      `UPDATE sagas SET lease_expires_at = ?, updated_at = ?
       WHERE id = ? AND fencing_token = ? AND owner = ? AND ${NOT_FINAL}`,
    ),
    holder: db.prepare('SELECT fencing_token, owner FROM sagas WHERE id = ?').raw(),
    release: db.prepare(
      `UPDATE sagas SET lease_expires_at = 0, updated_at = ?
       WHERE id = ? AND fencing_token = ? AND owner = ? AND ${NOT_FINAL}`,
    ),
  };
}
