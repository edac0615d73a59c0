// The SQLite saga log's storage engine: one connection, its prepared statements, and the batch
// commit. It runs either on the caller's thread or inside the log's worker thread (sqlite/worker.ts),
// so its inputs and outputs are plain, cloneable data (WireOp / WireResult).
import Database from 'better-sqlite3';
import type {
  Json,
  LogCount,
  LogFilter,
  LogPage,
  LogPageOptions,
  SagaMeta,
  SagaStatus,
  StoredSaga,
  SagaErrorCode,
} from '../../saga/index.js';
import { isSagaError } from '../../saga/index.js';
import { failure, fencedError, notFoundError, seqError, decodeRecords } from '@apex-memory/saga/log-kit';
import type { SqliteSynchronous } from './schema.js';
import { configureConnection } from './schema.js';
import { prepareStatements, toSummary, type SqliteStatements, type SummaryRow } from './sql.js';
import { SqliteQueries } from './queries.js';

/** One queued log call, as data (it may cross to the worker thread). JSON is already text. */
export type WireOp =
  | {
      k: 'begin';
      id: string;
      name: string;
      version: number;
      status: 'running' | 'pending';
      input: string;
      owner: string | null;
      leaseMs: number;
      meta: string | null;
      deadlineAt: number | null;
      key: string | null;
      /** First records (seq 0..), written only if this begin creates the saga: count and text (record-codec.ts). */
      n: number;
      records: string;
    }
  | {
      k: 'append';
      id: string;
      token: number;
      firstSeq: number;
      n: number;
      records: string;
      status: SagaStatus | null;
      reason: string | null;
      leaseMs: number | null;
      /** Steps (or compensations) these records report failed: saga_failed_steps (the failedStep filter). */
      failed: string[] | null;
    }
  | {
      k: 'claim';
      owner: string;
      leaseMs: number;
      limit: number;
      pending: boolean;
      names: string | null;
      defs: string | null;
      dead: string | null;
    }
  | { k: 'claimOne'; id: string; owner: string; leaseMs: number; force: boolean; heldOwner: string | null; heldToken: number | null }
  | { k: 'renew'; owner: string; ids: string[]; tokens: number[]; leaseMs: number }
  | { k: 'release'; owner: string; ids: string[]; tokens: number[]; delayMs: number | null }
  | { k: 'stuck'; id: string; owner: string; leaseMs: number };

export type WireResult = { ok: true; value: unknown } | { ok: false; code: SagaErrorCode; message: string };

export interface SqliteStoreConfig {
  path: string;
  synchronous: SqliteSynchronous;
  busyTimeoutMs: number;
}

export class SqliteLogStore {
  private readonly db: Database.Database;
  private readonly sql: SqliteStatements;
  /** Integer keys of sagas still running here, so appends skip the text-id lookup. */
  /**
   * Sagas still running here: their integer key, and the next seq as of the last append made
   * under `token`. While the saga's token is still that one, no other owner can have appended
   * (an append needs the current token, and a claim changes it), so the cached seq is exact and
   * the append skips the max(seq) lookup.
   */
  private readonly rids = new Map<string, { rid: number; token: number; nextSeq: number }>();
  private readonly fastTx: Database.Transaction<(ops: WireOp[], now: number, out: WireResult[]) => void>;
  private readonly safeTx: Database.Transaction<(ops: WireOp[], now: number, out: WireResult[]) => void>;
  private readonly savepoint: Database.Transaction<(op: WireOp, now: number) => unknown>;
  private readonly queries: SqliteQueries;

  constructor(config: SqliteStoreConfig) {
    try {
      this.db = new Database(config.path);
      configureConnection(this.db, config.synchronous, config.busyTimeoutMs);
    } catch (err) {
      throw failure(`cannot open the SQLite saga log at ${config.path}: ${(err as Error).message}`, err);
    }
    this.sql = prepareStatements(this.db);
    this.queries = new SqliteQueries(this.db);
    // Fast path: expected rejections (fenced, seq, unknown saga) are detected before an op writes
    // anything, so they need no savepoint. An unexpected SQL error aborts the batch, which is then
    // replayed with one savepoint per op so that only the broken op fails.
    this.fastTx = this.db.transaction((ops: WireOp[], now: number, out: WireResult[]) => {
      out.length = 0;
      for (const op of ops) out.push(this.attempt(() => this.exec(op, now), true));
    });
    this.savepoint = this.db.transaction((op: WireOp, now: number) => this.exec(op, now));
    this.safeTx = this.db.transaction((ops: WireOp[], now: number, out: WireResult[]) => {
      out.length = 0;
      for (const op of ops) out.push(this.attempt(() => this.savepoint(op, now), false));
    });
  }

  /** Commits the batch as one transaction; one result per op. Throws if the commit itself fails. */
  commit(ops: WireOp[], now: number): WireResult[] {
    const out: WireResult[] = [];
    try {
      this.fastTx.immediate(ops, now, out);
    } catch {
      this.rids.clear(); // rolled back: a rid cached by this batch may not exist
      try {
        this.safeTx.immediate(ops, now, out);
      } catch (err) {
        this.rids.clear();
        throw err;
      }
    }
    return out;
  }

  load(sagaId: string): StoredSaga | undefined {
    const row = this.sql.loadSaga.get(sagaId) as
      | [...SummaryRow, string, string | null, number | null, string | null, number | null]
      | undefined;
    if (row === undefined) return undefined;
    const records: StoredSaga['records'] = [];
    const recordTimes: Array<number | null> = [];
    for (const [text, n, at] of this.sql.loadRecords.all(sagaId) as Array<[string, number, number | null]>) {
      records.push(...decodeRecords(text));
      for (let i = 0; i < n; i++) recordTimes.push(at);
    }
    const meta = row[11] === null ? null : (JSON.parse(row[11]) as SagaMeta);
    return {
      ...toSummary(row),
      input: JSON.parse(row[10]) as Json,
      meta,
      deadlineAt: row[12],
      records,
      recordTimes,
      key: row[13],
      startedAt: recordTimes[0] ?? null,
      endedAt: row[14],
    };
  }

  count(filter: LogFilter | undefined): number {
    return this.queries.count(filter);
  }

  countUpTo(filter: LogFilter, cap: number): LogCount {
    return this.queries.countUpTo(filter, cap);
  }

  owners(now: number): Array<{ owner: string; sagas: number }> {
    return (this.sql.owners.all(now) as Array<[string, number]>).map(([owner, sagas]) => ({ owner, sagas }));
  }

  list(filter: LogFilter | undefined, page: LogPageOptions | undefined): LogPage {
    return this.queries.list(filter, page);
  }

  /** Retention (see SagaLog.prune): one transaction, records first, then the saga rows. */
  prune(endedBefore: number, limit: number): number {
    return this.db
      .transaction(() => {
        const rids = this.sql.prunable.all(endedBefore, limit) as number[];
        for (const rid of rids) {
          this.sql.deleteRecords.run(rid);
          this.sql.deleteFailed.run(rid);
          this.sql.deleteSaga.run(rid);
        }
        return rids.length;
      })
      .immediate();
  }

  close(): void {
    this.db.close();
  }

  private attempt(run: () => unknown, rethrowUnexpected: boolean): WireResult {
    try {
      return { ok: true, value: run() };
    } catch (err) {
      if (isSagaError(err)) return { ok: false, code: err.code, message: err.message };
      if (rethrowUnexpected) throw err;
      return { ok: false, code: 'LOG_FAILURE', message: `saga log operation failed: ${(err as Error).message}` };
    }
  }

  private exec(op: WireOp, now: number): unknown {
    switch (op.k) {
      case 'begin':
        return this.begin(op, now);
      case 'append':
        return this.append(op, now);
      case 'claim':
        return this.claim(op, now);
      case 'renew':
        return this.renew(op, now);
      case 'release':
        for (let i = 0; i < op.ids.length; i++) {
          if (op.delayMs !== null && op.delayMs > 0) this.sql.releaseUntil.run(now + op.delayMs, now, op.ids[i], op.tokens[i], op.owner);
          else this.sql.release.run(now, op.ids[i], op.tokens[i], op.owner);
        }
        return undefined;
      case 'claimOne': {
        const prev = this.sql.holder.get(op.id) as [number, string | null] | undefined;
        const row = this.sql.takeOne.get({
          owner: op.owner,
          lease: now + op.leaseMs,
          now,
          id: op.id,
          force: op.force ? 1 : 0,
          heldToken: op.heldToken,
          heldOwner: op.heldOwner,
        }) as SummaryRow | undefined;
        if (row === undefined) return undefined;
        const saga = toSummary(row);
        return { saga, lease: { owner: op.owner, fencingToken: saga.fencingToken }, previousOwner: prev?.[1] ?? null };
      }
      case 'stuck': {
        const row = this.sql.takeStuck.get(op.owner, now + op.leaseMs, now, op.id, now) as SummaryRow | undefined;
        if (row === undefined) return undefined;
        const saga = toSummary(row);
        return { saga, lease: { owner: op.owner, fencingToken: saga.fencingToken } };
      }
    }
  }

  private begin(op: Extract<WireOp, { k: 'begin' }>, now: number): unknown {
    const running = op.status === 'running';
    const owner = running ? op.owner : null;
    const token = running ? 1 : 0;
    const lease = running ? now + op.leaseMs : null;
    const info = this.sql.insertSaga.run(
      op.id,
      op.name,
      op.version,
      op.status,
      op.input,
      owner,
      token,
      lease,
      now,
      now,
      op.meta,
      op.deadlineAt,
      op.key,
    );
    if (info.changes === 1) {
      const rid = Number(info.lastInsertRowid);
      this.remember(op.id, { rid, token, nextSeq: op.n });
      if (op.n > 0) this.sql.insertRecords.run(rid, 0, op.n, op.records, now);
      return { created: true, lease: { owner: owner ?? '', fencingToken: token } };
    }
    return { created: false, existing: toSummary(this.sql.summary.get(op.id) as SummaryRow) };
  }

  private append(op: Extract<WireOp, { k: 'append' }>, now: number): undefined {
    const cached = this.rids.get(op.id);
    const rid = cached?.rid ?? (this.sql.ridOf.get(op.id) as number | undefined);
    if (rid === undefined) throw notFoundError(op.id);
    const token = this.sql.tokenOf.get(rid) as number;
    if (token !== op.token) throw fencedError(op.id, op.token, token);
    const nextSeq = cached !== undefined && cached.token === token ? cached.nextSeq : (this.sql.nextSeq.get(rid) as number);
    if (nextSeq !== op.firstSeq) throw seqError(op.id, op.firstSeq, nextSeq);
    if (op.n > 0) this.sql.insertRecords.run(rid, op.firstSeq, op.n, op.records, now);
    if (op.failed !== null) for (const step of op.failed) this.sql.insertFailed.run(step, rid);
    const lease = op.leaseMs === null ? null : now + op.leaseMs;
    // The saga row is written only when the status or the lease changes.
    if (op.status !== null || lease !== null) this.sql.updateState.run({ status: op.status, reason: op.reason, lease, now, rid });
    if (op.status === 'completed' || op.status === 'compensated') this.rids.delete(op.id);
    else this.remember(op.id, { rid, token, nextSeq: op.firstSeq + op.n });
    return undefined;
  }

  private claim(op: Extract<WireOp, { k: 'claim' }>, now: number): unknown {
    if (op.limit <= 0) return [];
    const rows = this.sql.claimable.all({
      pending: op.pending ? 1 : 0,
      now,
      names: op.names,
      defs: op.defs,
      dead: op.dead,
      limit: op.limit,
    }) as Array<[string, string | null]>;
    return rows.map(([id, previousOwner]) => {
      const saga = toSummary(this.sql.takeOver.get(op.owner, now + op.leaseMs, now, id) as SummaryRow);
      return { saga, lease: { owner: op.owner, fencingToken: saga.fencingToken }, previousOwner };
    });
  }

  private renew(op: Extract<WireOp, { k: 'renew' }>, now: number): string[] {
    const lost: string[] = [];
    for (let i = 0; i < op.ids.length; i++) {
      const id = op.ids[i] as string;
      const token = op.tokens[i] as number;
      if (this.sql.renew.run(now + op.leaseMs, now, id, token, op.owner).changes === 1) continue;
      // Not renewed: lost if someone else holds it; a saga we finished simply needs no lease.
      const row = this.sql.holder.get(id) as [number, string | null] | undefined;
      if (row === undefined || row[0] !== token || row[1] !== op.owner) lost.push(id);
    }
    return lost;
  }

  private remember(id: string, rid: { rid: number; token: number; nextSeq: number }): void {
    if (this.rids.size >= 100_000) this.rids.clear(); // bounded; a miss only costs one lookup
    this.rids.set(id, rid);
  }
}
