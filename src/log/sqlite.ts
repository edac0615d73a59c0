// SQLite SagaLog (the default, one file): WAL, synchronous=FULL, and group commit so that all the
// log calls of one event-loop turn share one transaction and one fsync. Fencing and seq checks run
// first inside the batch with prepared SELECTs, so a rejected op writes nothing and fails alone.
import Database from 'better-sqlite3';
import type {
  AppendRequest,
  BeginRequest,
  BeginResult,
  ClaimRequest,
  ErrorInfo,
  Json,
  Lease,
  ListFilter,
  LogRecord,
  SagaLog,
  SagaStatus,
  SagaSummary,
  StoredSaga,
} from '../saga/log.js';
import { SagaError } from '../saga/errors.js';
import {
  checkAppendShape,
  closedError,
  failure,
  fencedError,
  lastReason,
  lastStatus,
  notFoundError,
  seqError,
  toJsonText,
} from './common.js';
import type { BatchOp } from './group-commit.js';
import { GroupCommitQueue, newOp, settle } from './group-commit.js';
import type { SqliteSynchronous } from './sqlite-schema.js';
import { configureConnection } from './sqlite-schema.js';

export interface SqliteSagaLogOptions {
  /** `NORMAL` trades power-loss durability for speed; only when the config names it. */
  synchronous?: SqliteSynchronous;
  busyTimeoutMs?: number;
  now?: () => number;
}

type SummaryRow = [string, string, number, SagaStatus, string | null, number, number | null, number, number, string | null];
const SUMMARY_COLUMNS = 'id, name, version, status, owner, fencing_token, lease_expires_at, created_at, updated_at, reason';
const NOT_FINAL = "status NOT IN ('completed', 'compensated')";

export class SqliteSagaLog implements SagaLog {
  readonly kind = 'sqlite';
  /** What a committed append survives; the CLI prints it. */
  readonly durability: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly queue: GroupCommitQueue<BatchOp>;
  private closed = false;
  private readonly rids = new Map<string, number>();
  private readonly fastTx: Database.Transaction<(batch: BatchOp[]) => void>;
  private readonly safeTx: Database.Transaction<(batch: BatchOp[]) => void>;
  private readonly savepoint: Database.Transaction<(op: BatchOp) => unknown>;
  private readonly sql;

  constructor(readonly path: string, options: SqliteSagaLogOptions = {}) {
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw new SagaError('LOG_FAILURE', `unknown SQLite synchronous mode ${String(synchronous)}`);
    }
    this.durability =
      synchronous === 'FULL'
        ? 'synchronous=FULL (fsync per group commit; survives power loss)'
        : 'synchronous=NORMAL (survives a process crash, NOT power loss)';
    this.now = options.now ?? Date.now;
    try {
      this.db = new Database(path);
      configureConnection(this.db, synchronous, options.busyTimeoutMs ?? 5000);
    } catch (err) {
      throw failure(`cannot open the SQLite saga log at ${path}`, err);
    }
    const db = this.db;
    this.sql = {
      insertSaga: db.prepare(
        `INSERT INTO sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
      ),
      summary: db.prepare(`SELECT ${SUMMARY_COLUMNS} FROM sagas WHERE id = ?`).raw(),
      loadSaga: db.prepare(`SELECT ${SUMMARY_COLUMNS}, input FROM sagas WHERE id = ?`).raw(),
      loadRecords: db.prepare('SELECT record FROM saga_records WHERE saga_rid = (SELECT rid FROM sagas WHERE id = ?) ORDER BY seq').pluck(),
      ridOf: db.prepare('SELECT rid FROM sagas WHERE id = ?').pluck(),
      // An append only reads the saga row (token, next seq): two point lookups at the hot right
      // edge of the B-trees. The row is written only when the status or the lease changes.
      appendState: db
        .prepare('SELECT s.fencing_token, (SELECT coalesce(max(seq) + 1, 0) FROM saga_records WHERE saga_rid = s.rid) FROM sagas s WHERE s.rid = ?')
        .raw(),
      updateState: db.prepare(
        `UPDATE sagas SET status = coalesce(?, status), reason = coalesce(?, reason),
           lease_expires_at = coalesce(?, lease_expires_at), updated_at = ? WHERE rid = ?`,
      ),
      // Multi-row inserts for the usual 1-3 records: one native call per append.
      insertRecords: [1, 2, 3].map((k) =>
        db.prepare(`INSERT INTO saga_records (saga_rid, seq, type, record) VALUES ${Array(k).fill('(?, ?, ?, ?)').join(', ')}`),
      ),
      list: db
        .prepare(
          `SELECT ${SUMMARY_COLUMNS} FROM sagas WHERE (@status IS NULL OR status = @status) AND (@name IS NULL OR name = @name)
           ORDER BY rid LIMIT @limit`,
        )
        .raw(),
      claimable: db
        .prepare(
          `SELECT id FROM sagas
           WHERE (status IN ('running', 'compensating') OR (@pending = 1 AND status = 'pending'))
             AND (lease_expires_at IS NULL OR lease_expires_at <= @now)
             AND (@names IS NULL OR name IN (SELECT value FROM json_each(@names)))
           ORDER BY rid LIMIT @limit`,
        )
        .pluck(),
      takeOver: db
        .prepare(
          `UPDATE sagas SET owner = ?, fencing_token = fencing_token + 1, lease_expires_at = ?, updated_at = ?
           WHERE id = ? RETURNING ${SUMMARY_COLUMNS}`,
        )
        .raw(),
      takeStuck: db
        .prepare(
          `UPDATE sagas SET owner = ?, fencing_token = fencing_token + 1, lease_expires_at = ?, updated_at = ?
           WHERE id = ? AND status = 'stuck' RETURNING ${SUMMARY_COLUMNS}`,
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
    // Fast path: expected rejections (fenced, seq, unknown saga) are detected before the op
    // writes anything, so they need no savepoint. An unexpected SQL error aborts the batch, which
    // is then replayed with one savepoint per op so that only the broken op fails.
    this.fastTx = db.transaction((batch: BatchOp[]) => {
      for (const op of batch) runOp(op, (o) => o.exec(), true);
    });
    this.savepoint = db.transaction((op: BatchOp) => op.exec());
    this.safeTx = db.transaction((batch: BatchOp[]) => {
      for (const op of batch) runOp(op, (o) => this.savepoint(o), false);
    });
    this.queue = new GroupCommitQueue<BatchOp>((batch) => this.flush(batch));
  }

  begin(req: BeginRequest): Promise<BeginResult> {
    let inputJson: string;
    try {
      inputJson = toJsonText(req.input, `saga ${req.sagaId} input`);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue((): BeginResult => {
      const now = this.now();
      const running = req.status === 'running';
      const owner = running ? req.owner : null;
      const token = running ? 1 : 0;
      const lease = running ? now + req.leaseMs : null;
      const info = this.sql.insertSaga.run(req.sagaId, req.name, req.version, req.status, inputJson, owner, token, lease, now, now);
      if (info.changes === 1) this.remember(req.sagaId, Number(info.lastInsertRowid));
      if (info.changes === 1) return { created: true, lease: { owner: owner ?? '', fencingToken: token } };
      return { created: false, existing: toSummary(this.sql.summary.get(req.sagaId) as SummaryRow) };
    });
  }

  append(req: AppendRequest): Promise<void> {
    let texts: string[];
    try {
      checkAppendShape(req);
      texts = req.records.map((r) => toJsonText(r, `saga ${req.sagaId} record`));
    } catch (err) {
      return Promise.reject(err);
    }
    const status = lastStatus(req.records);
    const reason = lastReason(req.records);
    const reasonJson = reason === null ? null : JSON.stringify(reason);
    return this.enqueue((): void => {
      const id = req.sagaId;
      const records = req.records;
      const now = this.now();
      const lease = req.leaseMs === undefined ? null : now + req.leaseMs;
      const rid = this.rids.get(id) ?? (this.sql.ridOf.get(id) as number | undefined);
      if (rid === undefined) throw notFoundError(id);
      const state = this.sql.appendState.get(rid) as [number, number];
      if (state[0] !== req.lease.fencingToken) throw fencedError(id, req.lease.fencingToken, state[0]);
      if (state[1] !== req.firstSeq) throw seqError(id, req.firstSeq, state[1]);
      this.insertRecords(rid, req.firstSeq, records, texts);
      if (status !== null || lease !== null) this.sql.updateState.run(status, reasonJson, lease, now, rid);
      if (status === 'completed' || status === 'compensated') this.rids.delete(id);
      else this.remember(id, rid);
    });
  }

  async load(sagaId: string): Promise<StoredSaga | undefined> {
    this.ensureOpen();
    const row = this.sql.loadSaga.get(sagaId) as [...SummaryRow, string] | undefined;
    if (row === undefined) return undefined;
    const records = (this.sql.loadRecords.all(sagaId) as string[]).map((t) => JSON.parse(t) as LogRecord);
    return { ...toSummary(row as unknown as SummaryRow), input: JSON.parse(row[10]) as Json, records };
  }

  async list(filter: ListFilter = {}): Promise<SagaSummary[]> {
    this.ensureOpen();
    const rows = this.sql.list.all({ status: filter.status ?? null, name: filter.name ?? null, limit: filter.limit ?? -1 }) as SummaryRow[];
    return rows.map(toSummary);
  }

  claim(req: ClaimRequest): Promise<Array<{ saga: SagaSummary; lease: Lease }>> {
    const names = req.names === undefined ? null : JSON.stringify(req.names);
    return this.enqueue(() => {
      const now = this.now();
      if (req.limit <= 0) return [];
      const ids = this.sql.claimable.all({ pending: req.includePending ? 1 : 0, now, names, limit: req.limit }) as string[];
      return ids.map((id) => {
        const saga = toSummary(this.sql.takeOver.get(req.owner, now + req.leaseMs, now, id) as SummaryRow);
        return { saga, lease: { owner: req.owner, fencingToken: saga.fencingToken } };
      });
    });
  }

  renew(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, leaseMs: number): Promise<string[]> {
    return this.enqueue(() => {
      const now = this.now();
      const lost: string[] = [];
      for (const h of held) {
        if (this.sql.renew.run(now + leaseMs, now, h.sagaId, h.fencingToken, owner).changes === 1) continue;
        // Not renewed: lost if someone else holds it; a saga we finished simply needs no lease.
        const row = this.sql.holder.get(h.sagaId) as [number, string | null] | undefined;
        if (row === undefined || row[0] !== h.fencingToken || row[1] !== owner) lost.push(h.sagaId);
      }
      return lost;
    });
  }

  release(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>): Promise<void> {
    return this.enqueue(() => {
      const now = this.now();
      for (const h of held) this.sql.release.run(now, h.sagaId, h.fencingToken, owner);
    });
  }

  claimStuck(sagaId: string, owner: string, leaseMs: number): Promise<{ saga: SagaSummary; lease: Lease } | undefined> {
    return this.enqueue(() => {
      const now = this.now();
      const row = this.sql.takeStuck.get(owner, now + leaseMs, now, sagaId) as SummaryRow | undefined;
      if (row === undefined) return undefined;
      const saga = toSummary(row);
      return { saga, lease: { owner, fencingToken: saga.fencingToken } };
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Calls made before close still commit; only later ones see LOG_CLOSED.
    await this.queue.drain();
    this.db.close();
  }

  private insertRecords(rid: number, firstSeq: number, records: readonly LogRecord[], texts: readonly string[]): void {
    const stmt = this.sql.insertRecords[records.length - 1];
    if (stmt === undefined) {
      for (let i = 0; i < records.length; i++) {
        this.sql.insertRecords[0]?.run(rid, firstSeq + i, (records[i] as LogRecord).type, texts[i]);
      }
      return;
    }
    const params: Array<string | number> = [];
    for (let i = 0; i < records.length; i++) params.push(rid, firstSeq + i, (records[i] as LogRecord).type, texts[i] as string);
    stmt.run(params);
  }

  /** Caches the integer key of sagas still running here, so appends skip the text-id lookup. */
  private remember(id: string, rid: number): void {
    if (this.rids.size >= 100_000) this.rids.clear(); // bounded; a miss only costs one lookup
    this.rids.set(id, rid);
  }

  private enqueue<T>(exec: () => T): Promise<T> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    return new Promise<T>((resolve, reject) => this.queue.push(newOp(exec, resolve, reject)));
  }

  private flush(batch: BatchOp[]): void {
    try {
      this.fastTx.immediate(batch);
    } catch {
      try {
        this.safeTx.immediate(batch);
      } catch (err) {
        const error = failure(`SQLite saga log commit failed: ${(err as Error).message}`, err);
        for (const op of batch) op.reject(error);
        return;
      }
    }
    settle(batch);
  }

  private ensureOpen(): void {
    if (this.closed) throw closedError(this.kind);
  }
}

/** Runs one op; expected SagaErrors are recorded on the op, anything else aborts the fast path. */
function runOp(op: BatchOp, exec: (op: BatchOp) => unknown, rethrowUnexpected: boolean): void {
  op.failed = false;
  try {
    op.value = exec(op);
  } catch (err) {
    if (rethrowUnexpected && !(err instanceof SagaError)) throw err;
    op.failed = true;
    op.error = err instanceof SagaError ? err : failure(`saga log operation failed: ${(err as Error).message}`, err);
  }
}

function toSummary(row: SummaryRow): SagaSummary {
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
