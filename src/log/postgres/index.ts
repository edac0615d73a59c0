// PostgreSQL SagaLogBackend (fleets): the log a group of workers share. Group commit turns every begin
// and append of one event-loop turn into one multi-row statement (one commit); fencing is checked
// in that statement, row by row, so a fenced append fails alone while the rest commits. Leases are
// timed on the database's clock. Claims use FOR UPDATE SKIP LOCKED.
import pg from 'pg';
import type {
  AppendRequest,
  BeginRequest,
  BeginResult,
  ClaimRequest,
  ClaimSagaRequest,
  Claimed,
  CommitEvent,
  Json,
  Lease,
  LogCount,
  LogFilter,
  LogPage,
  LogPageOptions,
  LogRecord,
  SagaLogBackend,
  SagaMeta,
  SagaSummary,
  StoredSaga,
} from '../../saga/index.js';
import {
  checkAppendShape,
  checkKey,
  closedError,
  definitionKeys,
  failure,
  lastReason,
  lastStatus,
  metaText,
  reportCommit,
  toJsonText,
  GroupCommitQueue,
} from '@apex-memory/saga/log-kit';
import { countQuery, listQuery, toPage, type EntryRow } from './queries.js';
import { changeChannel, migrate, quoteSchema } from './schema.js';
import { ChangeListener } from './listen.js';
import type { SummaryRow } from './sql.js';
import { logStatements, toSummary } from './sql.js';
import type { QueuedAppend, QueuedBegin } from './batch.js';
import { commitAppends, commitBegins, openBatchPool } from './batch.js';
import { logConnectionSettings, poolConfig, splitBudget, type LogConnectionSettings } from './pools.js';

export interface PostgresSagaLogOptions {
  connectionString: string;
  /** Schema holding the tables (default `apex_saga`). */
  schema?: string;
  /**
   * Connection budget of this log (default 8): half for group commits (up to 2 x
   * maxInFlightBatches), the rest for claims and queries (postgres/pools.ts). Plus one LISTEN connection.
   */
  poolSize?: number;
  /** Timeouts, PgBouncer mode and the direct URL (postgres/pools.ts). */
  connection?: Partial<Omit<LogConnectionSettings, 'connections'>>;
  /** Group commits allowed in flight at once, each on its own connection (default 4). */
  maxInFlightBatches?: number;
  applicationName?: string;
}

type Queued = QueuedBegin | QueuedAppend;

export class PostgresSagaLog implements SagaLogBackend {
  readonly kind = 'postgres';
  private readonly queue: GroupCommitQueue<Queued>;
  private readonly sql: ReturnType<typeof logStatements>;
  private closed = false;
  onCommit: ((e: CommitEvent) => void) | undefined;
  private readonly listener: ChangeListener;

  private constructor(
    private readonly pool: pg.Pool,
    /** Group commits only (postgres/batch.ts: generic plans). */
    private readonly batchPool: pg.Pool,
    readonly schema: string,
    /** What a committed append survives; the CLI prints it. */
    readonly durability: string,
    maxInFlight: number,
    connectionString: string,
    readonly settings: LogConnectionSettings,
  ) {
    this.sql = logStatements(quoteSchema(schema));
    this.queue = new GroupCommitQueue<Queued>((batch) => this.flush(batch), maxInFlight);
    // Behind a transaction pooler LISTEN needs a direct connection; without one, waits poll.
    const listenUrl =
      settings.pooler === 'transaction' ? settings.directConnectionString : (settings.directConnectionString ?? connectionString);
    this.listener = new ChangeListener(listenUrl, changeChannel(quoteSchema(schema)), settings.connectTimeoutMs);
  }

  /** Connects, applies migrations once (advisory lock) and reads the server's durability setting. */
  static async open(options: PostgresSagaLogOptions): Promise<PostgresSagaLog> {
    const schema = options.schema ?? 'apex_saga';
    quoteSchema(schema);
    const settings = logConnectionSettings({
      ...options.connection,
      ...(options.poolSize !== undefined ? { connections: options.poolSize } : {}),
    });
    const appName = options.applicationName ?? 'apex-memory-saga-log';
    const maxInFlight = Math.max(1, options.maxInFlightBatches ?? 4);
    const budget = splitBudget(settings, maxInFlight);
    const pool = new pg.Pool(poolConfig(options.connectionString, budget.main, appName, settings));
    // An idle client's socket error (server restart) must not crash the process.
    pool.on('error', () => undefined);
    try {
      // Migrations on the direct server when given (a pooler may not allow long DDL), on their own
      // short-lived connection with a longer timeout (index builds on a large log).
      const migrationPool = new pg.Pool(
        poolConfig(settings.directConnectionString ?? options.connectionString, 1, appName, settings, settings.migrationTimeoutMs),
      );
      migrationPool.on('error', () => undefined);
      try {
        await migrate(migrationPool, schema);
      } finally {
        await migrationPool.end().catch(() => undefined);
      }
      const res = await pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      const setting = res.rows[0]?.synchronous_commit ?? 'unknown';
      // Never changed here: the server's (or role's) setting is used and shown as it is.
      const durability =
        setting === 'off'
          ? 'synchronous_commit=off (server setting: the last commits may be lost if PostgreSQL crashes)'
          : `synchronous_commit=${setting} (a committed append is durable on the server)`;
      // Each group commit uses up to two connections at once (its begins and its appends).
      const batchPool = openBatchPool(poolConfig(options.connectionString, budget.batch, appName, settings), settings.pooler);
      // Connected now: the first commit should not wait for a connection (nor fail on one later).
      try {
        const client = await batchPool.connect();
        client.release();
      } catch (err) {
        await batchPool.end().catch(() => undefined);
        throw err;
      }
      return new PostgresSagaLog(pool, batchPool, schema, durability, maxInFlight, options.connectionString, settings);
    } catch (err) {
      await pool.end().catch(() => undefined);
      const message = (err as Error).message;
      const why = /timeout exceeded when trying to connect|Connection terminated due to connection timeout/i.test(message)
        ? `no answer from the server within ${settings.connectTimeoutMs} ms (${message})`
        : /Query read timeout/i.test(message)
          ? `the server accepted the connection but did not answer a query within the timeout`
          : message;
      throw failure(`cannot open the PostgreSQL saga log: ${why}`, err);
    }
  }

  begin(req: BeginRequest): Promise<BeginResult> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    let inputJson: string;
    try {
      inputJson = toJsonText(req.input, `saga ${req.sagaId} input`);
    } catch (err) {
      return Promise.reject(err);
    }
    let recordTexts: string[];
    let metaJson: string | null;
    try {
      recordTexts = (req.records ?? []).map((r) => toJsonText(r, `saga ${req.sagaId} record`));
      metaJson = metaText(req.meta);
      checkKey(req.sagaId, req.key);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise((resolve, reject) => this.queue.push({ kind: 'begin', req, inputJson, recordTexts, metaJson, resolve, reject }));
  }

  append(req: AppendRequest): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    let texts: string[];
    try {
      checkAppendShape(req);
      texts = req.records.map((r) => toJsonText(r, `saga ${req.sagaId} record`));
    } catch (err) {
      return Promise.reject(err);
    }
    const reason = lastReason(req.records);
    return new Promise((resolve, reject) =>
      this.queue.push({
        kind: 'append',
        req,
        texts,
        status: lastStatus(req.records),
        reasonJson: reason === null ? null : JSON.stringify(reason),
        resolve,
        reject,
      }),
    );
  }

  async load(sagaId: string): Promise<StoredSaga | undefined> {
    const row = (await this.query<LoadRow>(this.sql.load, [sagaId]))[0];
    return row === undefined ? undefined : toStored(row);
  }

  async loadMany(sagaIds: readonly string[]): Promise<StoredSaga[]> {
    if (sagaIds.length === 0) return [];
    const res = await this.query<LoadRow>(this.sql.loadMany, [[...sagaIds]]);
    return res.map(toStored);
  }

  async count(filter?: LogFilter): Promise<number> {
    const q = countQuery(quoteSchema(this.schema), filter);
    const rows = await this.query<{ n: string }>(q.text, q.values);
    return Number(rows[0]?.n ?? 0);
  }

  async countUpTo(filter: LogFilter, cap: number): Promise<LogCount> {
    const q = countQuery(quoteSchema(this.schema), filter, cap);
    const rows = await this.query<{ n: string }>(q.text, q.values);
    const n = Number(rows[0]?.n ?? 0);
    return n > cap ? { count: cap, capped: true } : { count: n, capped: false };
  }

  async owners(): Promise<Array<{ owner: string; sagas: number }>> {
    const rows = await this.query<{ owner: string; n: number }>(this.sql.owners, []);
    return rows.map((r) => ({ owner: r.owner, sagas: Number(r.n) }));
  }

  /** LISTEN/NOTIFY: resolves on the saga's next status change or lease release, or after the timeout. */
  waitForChange(sagaId: string, timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    // The trigger notifies only sagas someone registered interest in (migration 4): register for
    // the wait's length (plus a margin for clock and round trips). Failing to register only means
    // this wait ends at its timeout, as a lost LISTEN connection does.
    const registered = this.query(this.sql.registerWait, [sagaId, Math.ceil(timeoutMs) + 5_000]).catch(() => undefined);
    return this.listener.wait(sagaId, timeoutMs, registered);
  }

  async prune(endedBefore: number, limit: number): Promise<number> {
    const rows = await this.query<{ n: number }>(this.sql.prune, [endedBefore, limit]);
    return Number(rows[0]?.n ?? 0);
  }

  async list(filter?: LogFilter, page?: LogPageOptions): Promise<LogPage> {
    const q = listQuery(quoteSchema(this.schema), filter, page);
    const rows = await this.query<EntryRow>(q.text, q.values);
    return toPage(rows, q.limit, q.order);
  }

  async claim(req: ClaimRequest): Promise<Claimed[]> {
    if (this.closed) throw closedError(this.kind);
    if (req.limit <= 0) return [];
    const rows = await this.query<SummaryRow & { prev_owner: string | null }>(this.sql.claim, [
      req.owner,
      req.leaseMs,
      req.includePending,
      req.names === undefined ? null : [...req.names],
      req.limit,
      definitionKeys(req.definitions),
      req.deadOwners && req.deadOwners.length > 0 ? [...req.deadOwners] : null,
    ]);
    // RETURNING does not keep the subquery's order: restore "oldest first".
    return rows
      .map((row) => ({ saga: toSummary(row), previousOwner: row.prev_owner }))
      .sort((a, b) => a.saga.createdAt - b.saga.createdAt || (a.saga.sagaId < b.saga.sagaId ? -1 : a.saga.sagaId > b.saga.sagaId ? 1 : 0))
      .map(({ saga, previousOwner }) => ({ saga, lease: { owner: req.owner, fencingToken: saga.fencingToken }, previousOwner }));
  }

  async claimSaga(req: ClaimSagaRequest): Promise<Claimed | undefined> {
    if (this.closed) throw closedError(this.kind);
    const rows = await this.query<SummaryRow & { prev_owner: string | null }>(this.sql.claimOne, [
      req.sagaId,
      req.owner,
      req.leaseMs,
      req.force === true,
      req.ifHeldBy?.owner ?? null,
      req.ifHeldBy?.fencingToken ?? null,
    ]);
    const row = rows[0];
    if (row === undefined) return undefined;
    const saga = toSummary(row);
    return { saga, lease: { owner: req.owner, fencingToken: saga.fencingToken }, previousOwner: row.prev_owner };
  }

  async renew(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, leaseMs: number): Promise<string[]> {
    if (this.closed) throw closedError(this.kind);
    if (held.length === 0) return [];
    const rows = await this.query<{ id: string }>(this.sql.renew, [
      held.map((h) => h.sagaId),
      held.map((h) => h.fencingToken),
      owner,
      leaseMs,
    ]);
    return rows.map((r) => r.id);
  }

  async release(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, delayMs?: number): Promise<void> {
    if (this.closed) throw closedError(this.kind);
    if (held.length === 0) return;
    const delay = delayMs !== undefined && delayMs > 0 ? Math.round(delayMs) : null;
    await this.query(this.sql.release, [held.map((h) => h.sagaId), held.map((h) => h.fencingToken), owner, delay]);
  }

  async claimStuck(sagaId: string, owner: string, leaseMs: number): Promise<{ saga: SagaSummary; lease: Lease } | undefined> {
    const rows = await this.query<SummaryRow>(this.sql.claimStuck, [sagaId, owner, leaseMs]);
    const row = rows[0];
    if (row === undefined) return undefined;
    const saga = toSummary(row);
    return { saga, lease: { owner, fencingToken: saga.fencingToken } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Calls made before close still commit; only later ones see LOG_CLOSED.
    await this.queue.drain();
    await this.listener.close();
    await Promise.all([this.pool.end(), this.batchPool.end()]);
  }

  private async flush(batch: Queued[]): Promise<void> {
    const begins: QueuedBegin[] = [];
    const appends: QueuedAppend[] = [];
    for (const op of batch) {
      if (op.kind === 'begin') begins.push(op);
      else appends.push(op);
    }
    const t0 = performance.now();
    // Two independent statements, each one commit; they touch different sagas' rows or none.
    await Promise.all([
      begins.length > 0 ? commitBegins(this.batchPool, this.sql, begins) : undefined,
      appends.length > 0 ? commitAppends(this.batchPool, this.sql, appends) : undefined,
    ]);
    if (this.onCommit) {
      let records = 0;
      const sagas = new Set<string>();
      for (const op of batch) {
        records += op.kind === 'begin' ? op.recordTexts.length : op.texts.length;
        sagas.add(op.req.sagaId);
      }
      reportCommit(this.onCommit, records, sagas.size, t0);
    }
  }

  private async query<R extends object>(text: string, params: unknown[]): Promise<R[]> {
    if (this.closed) throw closedError(this.kind);
    try {
      return (await this.pool.query<R>(text, params)).rows;
    } catch (err) {
      const message = (err as Error).message;
      // pg's own words ("Query read timeout") do not say which limit ran out, nor how to change it.
      const why = /Query read timeout/i.test(message)
        ? `the server did not answer within ${this.settings.queryTimeoutMs} ms (APEX_SAGA_LOG_TIMEOUT_MS)`
        : /timeout exceeded when trying to connect/i.test(message)
          ? `no connection within ${this.settings.connectTimeoutMs} ms`
          : message;
      throw failure(`PostgreSQL saga log query failed: ${why}`, err);
    }
  }
}

type LoadRow = SummaryRow & {
  input: Json;
  records: LogRecord[];
  meta: SagaMeta | null;
  deadline_at: string | null;
  key: string | null;
  ended_at: string | null;
  record_times: Array<number | string | null>;
};

function toStored(row: LoadRow): StoredSaga {
  const recordTimes = row.record_times.map((t) => (t === null ? null : Number(t)));
  return {
    ...toSummary(row),
    input: row.input,
    meta: row.meta,
    deadlineAt: row.deadline_at === null ? null : Number(row.deadline_at),
    records: row.records,
    recordTimes,
    key: row.key,
    startedAt: recordTimes[0] ?? null,
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
  };
}
