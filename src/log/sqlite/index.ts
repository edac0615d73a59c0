// SQLite SagaLogBackend (the default, one file): WAL, synchronous=FULL, and group commit: all the log
// calls of one event-loop turn share one transaction and one fsync. With `thread: true` the writing
// connection lives in a worker thread (sqlite/thread.ts), so SQLite's work and its fsync can run on
// another core beside the engine; reads always use a connection on the caller's thread.
import type {
  AppendRequest,
  BeginRequest,
  BeginResult,
  ClaimRequest,
  ClaimSagaRequest,
  Claimed,
  CommitEvent,
  Lease,
  LogCount,
  LogFilter,
  LogPage,
  LogPageOptions,
  SagaLogBackend,
  SagaSummary,
  StoredSaga,
} from '../../saga/index.js';
import { SagaError } from '../../saga/index.js';
import {
  checkAppendShape,
  checkKey,
  closedError,
  definitionKeys,
  failedSteps,
  failure,
  lastReason,
  lastStatus,
  metaText,
  reportCommit,
  toJsonText,
  GroupCommitQueue,
  encodeRecords,
} from '@apex-memory/saga/log-kit';
import type { SqliteSynchronous } from './schema.js';
import type { WireOp, WireResult } from './store.js';
import { SqliteLogStore } from './store.js';
import { SqliteWorkerHandle } from './thread.js';

export interface SqliteSagaLogOptions {
  /** `NORMAL` trades power-loss durability for speed; only when the config names it. */
  synchronous?: SqliteSynchronous;
  busyTimeoutMs?: number;
  now?: () => number;
  /**
   * Commit in a worker thread (default false). It frees the main thread (~65 vs ~113 µs of
   * main-thread time per anchor saga) but costs more CPU in total (message cloning), so it only
   * pays when a core is otherwise idle; see docs/saga-log.md.
   */
  thread?: boolean;
}

interface Pending {
  op: WireOp;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export class SqliteSagaLog implements SagaLogBackend {
  readonly kind = 'sqlite';
  /** What a committed append survives; the CLI prints it. */
  readonly durability: string;
  private readonly store: SqliteLogStore;
  private readonly worker: SqliteWorkerHandle | undefined;
  private readonly now: () => number;
  private readonly queue: GroupCommitQueue<Pending>;
  private closed = false;
  onCommit: ((e: CommitEvent) => void) | undefined;

  constructor(
    readonly path: string,
    options: SqliteSagaLogOptions = {},
  ) {
    const synchronous = options.synchronous ?? 'FULL';
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw new SagaError('LOG_FAILURE', `unknown SQLite synchronous mode ${String(synchronous)}`);
    }
    this.durability =
      synchronous === 'FULL'
        ? 'synchronous=FULL (fsync per group commit; survives power loss)'
        : 'synchronous=NORMAL (survives a process crash, NOT power loss)';
    this.now = options.now ?? Date.now;
    const config = { path, synchronous, busyTimeoutMs: options.busyTimeoutMs ?? 5000 };
    // Opened here first: creates the schema and reports a bad path synchronously.
    this.store = new SqliteLogStore(config);
    this.worker = options.thread === true ? new SqliteWorkerHandle(config) : undefined;
    this.queue = new GroupCommitQueue<Pending>((batch) => this.flush(batch));
  }

  begin(req: BeginRequest): Promise<BeginResult> {
    let input: string;
    try {
      input = toJsonText(req.input, `saga ${req.sagaId} input`);
    } catch (err) {
      return Promise.reject(err);
    }
    const first = req.records ?? [];
    let records: string;
    let meta: string | null;
    let key: string | null;
    try {
      records = encodeRecords(first, `saga ${req.sagaId} record`);
      meta = metaText(req.meta);
      key = checkKey(req.sagaId, req.key);
    } catch (err) {
      return Promise.reject(err);
    }
    const { sagaId: id, name, version, status, owner, leaseMs } = req;
    const deadlineAt = req.deadlineAt ?? null;
    return this.enqueue<BeginResult>({
      k: 'begin',
      id,
      name,
      version,
      status,
      input,
      owner,
      leaseMs,
      meta,
      deadlineAt,
      key,
      n: first.length,
      records,
    });
  }

  append(req: AppendRequest): Promise<void> {
    let records: string;
    try {
      checkAppendShape(req);
      records = encodeRecords(req.records, `saga ${req.sagaId} record`);
    } catch (err) {
      return Promise.reject(err);
    }
    const reason = lastReason(req.records);
    const failed = failedSteps(req.records);
    return this.enqueue<void>({
      k: 'append',
      id: req.sagaId,
      token: req.lease.fencingToken,
      firstSeq: req.firstSeq,
      n: req.records.length,
      records,
      status: lastStatus(req.records),
      reason: reason === null ? null : JSON.stringify(reason),
      leaseMs: req.leaseMs ?? null,
      failed: failed.length > 0 ? failed : null,
    });
  }

  async load(sagaId: string): Promise<StoredSaga | undefined> {
    this.ensureOpen();
    return this.store.load(sagaId);
  }

  async prune(endedBefore: number, limit: number): Promise<number> {
    this.ensureOpen();
    try {
      return this.store.prune(endedBefore, limit);
    } catch (err) {
      throw failure(`SQLite saga log prune failed: ${(err as Error).message}`, err);
    }
  }

  async list(filter?: LogFilter, page?: LogPageOptions): Promise<LogPage> {
    this.ensureOpen();
    return this.store.list(filter, page);
  }

  claim(req: ClaimRequest): Promise<Claimed[]> {
    const names = req.names === undefined ? null : JSON.stringify(req.names);
    const keys = definitionKeys(req.definitions);
    const defs = keys === null ? null : JSON.stringify(keys);
    const dead = req.deadOwners && req.deadOwners.length > 0 ? JSON.stringify(req.deadOwners) : null;
    return this.enqueue({
      k: 'claim',
      owner: req.owner,
      leaseMs: req.leaseMs,
      limit: req.limit,
      pending: req.includePending,
      names,
      defs,
      dead,
    });
  }

  claimSaga(req: ClaimSagaRequest): Promise<Claimed | undefined> {
    return this.enqueue({
      k: 'claimOne',
      id: req.sagaId,
      owner: req.owner,
      leaseMs: req.leaseMs,
      force: req.force === true,
      heldOwner: req.ifHeldBy?.owner ?? null,
      heldToken: req.ifHeldBy?.fencingToken ?? null,
    });
  }

  async count(filter?: LogFilter): Promise<number> {
    this.ensureOpen();
    return this.store.count(filter);
  }

  async countUpTo(filter: LogFilter, cap: number): Promise<LogCount> {
    this.ensureOpen();
    return this.store.countUpTo(filter, cap);
  }

  async owners(): Promise<Array<{ owner: string; sagas: number }>> {
    this.ensureOpen();
    return this.store.owners(this.now());
  }

  renew(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, leaseMs: number): Promise<string[]> {
    return this.enqueue({ k: 'renew', owner, ids: held.map((h) => h.sagaId), tokens: held.map((h) => h.fencingToken), leaseMs });
  }

  release(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, delayMs?: number): Promise<void> {
    return this.enqueue({
      k: 'release',
      owner,
      ids: held.map((h) => h.sagaId),
      tokens: held.map((h) => h.fencingToken),
      delayMs: delayMs ?? null,
    });
  }

  claimStuck(sagaId: string, owner: string, leaseMs: number): Promise<{ saga: SagaSummary; lease: Lease } | undefined> {
    return this.enqueue({ k: 'stuck', id: sagaId, owner, leaseMs });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Calls made before close still commit; only later ones see LOG_CLOSED.
    await this.queue.drain();
    await this.worker?.close();
    this.store.close();
  }

  private enqueue<T>(op: WireOp): Promise<T> {
    if (this.closed) return Promise.reject(closedError(this.kind));
    return new Promise<T>((resolve, reject) => this.queue.push({ op, resolve: resolve as (value: unknown) => void, reject }));
  }

  private flush(batch: Pending[]): void | Promise<void> {
    const ops = batch.map((p) => p.op);
    const now = this.now();
    const t0 = performance.now();
    if (this.worker === undefined) {
      let results: WireResult[];
      try {
        results = this.store.commit(ops, now);
      } catch (err) {
        return rejectAll(batch, err);
      }
      this.reportCommit(ops, t0);
      return settle(batch, results);
    }
    return this.worker.commit(ops, now).then(
      (results) => {
        this.reportCommit(ops, t0);
        settle(batch, results);
      },
      (err: unknown) => rejectAll(batch, err),
    );
  }

  private reportCommit(ops: WireOp[], t0: number): void {
    if (!this.onCommit) return;
    let records = 0;
    const sagas = new Set<string>();
    for (const op of ops) {
      if (op.k !== 'begin' && op.k !== 'append') continue;
      records += op.n;
      sagas.add(op.id);
    }
    reportCommit(this.onCommit, records, sagas.size, t0);
  }

  private ensureOpen(): void {
    if (this.closed) throw closedError(this.kind);
  }
}

function settle(batch: Pending[], results: WireResult[]): void {
  for (let i = 0; i < batch.length; i++) {
    const pending = batch[i] as Pending;
    const result = results[i];
    if (result?.ok) pending.resolve(result.value);
    else pending.reject(result ? new SagaError(result.code, result.message) : failure('no result for a log operation', undefined));
  }
}

function rejectAll(batch: Pending[], err: unknown): void {
  const error = failure(`SQLite saga log commit failed: ${(err as Error).message}`, err);
  for (const pending of batch) pending.reject(error);
}
