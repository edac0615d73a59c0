// In-memory SagaLogBackend: the reference semantics for tests and the engine's unit tests. Records are
// kept as JSON text so that anything that would not survive a real backend fails here too.
import type {
  AppendRequest,
  BeginRequest,
  BeginResult,
  ClaimRequest,
  ClaimSagaRequest,
  Claimed,
  CommitEvent,
  ErrorInfo,
  Json,
  Lease,
  LogCount,
  LogFilter,
  LogPage,
  LogPageOptions,
  LogRecord,
  SagaEntry,
  SagaLogBackend,
  SagaMeta,
  SagaStatus,
  SagaSummary,
  StoredSaga,
} from './log.js';
import { isFinal } from './log.js';
import {
  checkAppendShape,
  closedError,
  definitionKeys,
  metaText,
  reportCommit,
  fencedError,
  nextReason,
  notFoundError,
  RECLAIMABLE,
  seqError,
  toJsonText,
} from './log-kit/common.js';
import { checkCap, checkKey } from './log-kit/query.js';
import { countUpTo, listPage } from './memory-queries.js';

interface MemorySaga {
  sagaId: string;
  name: string;
  version: number;
  inputJson: string;
  status: SagaStatus;
  owner: string | null;
  fencingToken: number;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  reason: ErrorInfo | null;
  meta: string | null;
  deadlineAt: number | null;
  records: string[];
  /** When each record was appended (this log's clock). */
  recordTimes: number[];
  key: string | null;
  endedAt: number | null;
  /** Creation order: the keyset cursor's position (createdAt may repeat under a test clock). */
  seq: number;
}

export interface MemorySagaLogOptions {
  now?: () => number;
}

export class MemorySagaLog implements SagaLogBackend {
  readonly kind = 'memory';
  readonly durability = 'none (process memory)';
  private readonly sagas = new Map<string, MemorySaga>();
  private readonly now: () => number;
  private closed = false;
  onCommit: ((e: CommitEvent) => void) | undefined;
  private readonly changeWaiters = new Map<string, Set<() => void>>();
  private nextSeq = 0;

  constructor(options: MemorySagaLogOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async begin(req: BeginRequest): Promise<BeginResult> {
    this.ensureOpen();
    const existing = this.sagas.get(req.sagaId);
    if (existing) return { created: false, existing: summarize(existing) };
    const key = checkKey(req.sagaId, req.key);
    const now = this.now();
    const t0 = performance.now();
    const running = req.status === 'running';
    const saga: MemorySaga = {
      sagaId: req.sagaId,
      name: req.name,
      version: req.version,
      inputJson: toJsonText(req.input, `saga ${req.sagaId} input`),
      status: req.status,
      owner: running ? req.owner : null,
      // A pending saga has no owner yet; its first claim makes token 1.
      fencingToken: running ? 1 : 0,
      leaseExpiresAt: running ? now + req.leaseMs : null,
      createdAt: now,
      updatedAt: now,
      reason: null,
      meta: metaText(req.meta),
      deadlineAt: req.deadlineAt ?? null,
      records: (req.records ?? []).map((r) => toJsonText(r, `saga ${req.sagaId} record`)),
      recordTimes: (req.records ?? []).map(() => now),
      key,
      endedAt: null,
      seq: this.nextSeq++,
    };
    this.sagas.set(req.sagaId, saga);
    reportCommit(this.onCommit, saga.records.length, 1, t0);
    return { created: true, lease: { owner: saga.owner ?? '', fencingToken: saga.fencingToken } };
  }

  async append(req: AppendRequest): Promise<void> {
    this.ensureOpen();
    checkAppendShape(req);
    const saga = this.sagas.get(req.sagaId);
    if (!saga) throw notFoundError(req.sagaId);
    if (saga.fencingToken !== req.lease.fencingToken) {
      throw fencedError(req.sagaId, req.lease.fencingToken, saga.fencingToken);
    }
    if (req.firstSeq !== saga.records.length) throw seqError(req.sagaId, req.firstSeq, saga.records.length);
    // Serialize everything before mutating anything: all records or none.
    const texts = req.records.map((r) => toJsonText(r, `saga ${req.sagaId} record`));
    const now = this.now();
    const t0 = performance.now();
    saga.records.push(...texts);
    for (let i = 0; i < texts.length; i++) saga.recordTimes.push(now);
    let statusChanged = false;
    for (const rec of req.records)
      if (rec.type === 'status') {
        saga.status = rec.status;
        statusChanged = true;
      }
    if (statusChanged && isFinal(saga.status) && saga.endedAt === null) saga.endedAt = now;
    saga.reason = nextReason(saga.reason, req.records);
    if (req.leaseMs !== undefined) saga.leaseExpiresAt = now + req.leaseMs;
    saga.updatedAt = now;
    reportCommit(this.onCommit, texts.length, 1, t0);
    if (statusChanged) this.changed(req.sagaId);
  }

  async count(filter: LogFilter = {}): Promise<number> {
    this.ensureOpen();
    return countUpTo(this.sagas.values(), filter, Number.MAX_SAFE_INTEGER).count;
  }

  async countUpTo(filter: LogFilter, cap: number): Promise<LogCount> {
    this.ensureOpen();
    return countUpTo(this.sagas.values(), filter, checkCap(cap));
  }

  async owners(): Promise<Array<{ owner: string; sagas: number }>> {
    this.ensureOpen();
    const now = this.now();
    const by = new Map<string, number>();
    for (const s of this.sagas.values()) {
      if (!RECLAIMABLE.has(s.status) || s.owner === null || s.leaseExpiresAt === null || s.leaseExpiresAt <= now) continue;
      by.set(s.owner, (by.get(s.owner) ?? 0) + 1);
    }
    return [...by].map(([owner, sagas]) => ({ owner, sagas }));
  }

  waitForChange(sagaId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.changeWaiters.get(sagaId) ?? new Set<() => void>();
      this.changeWaiters.set(sagaId, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.changeWaiters.delete(sagaId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
      set.add(done);
    });
  }

  private changed(sagaId: string): void {
    const set = this.changeWaiters.get(sagaId);
    if (set) for (const w of [...set]) w();
  }

  async prune(endedBefore: number, limit: number): Promise<number> {
    this.ensureOpen();
    let n = 0;
    for (const [id, saga] of this.sagas) {
      if (n >= limit) break;
      if (saga.endedAt !== null && saga.endedAt < endedBefore) {
        this.sagas.delete(id);
        n++;
      }
    }
    return n;
  }

  async load(sagaId: string): Promise<StoredSaga | undefined> {
    this.ensureOpen();
    const saga = this.sagas.get(sagaId);
    if (!saga) return undefined;
    return {
      ...entry(saga),
      input: JSON.parse(saga.inputJson) as Json,
      meta: saga.meta === null ? null : (JSON.parse(saga.meta) as SagaMeta),
      deadlineAt: saga.deadlineAt,
      records: saga.records.map(parseRecord),
      recordTimes: [...saga.recordTimes],
    };
  }

  async list(filter: LogFilter = {}, page: LogPageOptions = {}): Promise<LogPage> {
    this.ensureOpen();
    return listPage(this.kind, this.sagas.values(), filter, page, entry);
  }

  async claim(req: ClaimRequest): Promise<Claimed[]> {
    this.ensureOpen();
    const now = this.now();
    const names = req.names ? new Set(req.names) : undefined;
    const keys = definitionKeys(req.definitions);
    const defs = keys ? new Set(keys) : undefined;
    const dead = new Set(req.deadOwners ?? []);
    const out: Claimed[] = [];
    if (req.limit <= 0) return out;
    for (const saga of this.ordered()) {
      const eligible = RECLAIMABLE.has(saga.status) || (req.includePending && saga.status === 'pending');
      if (!eligible) continue;
      const expired = saga.leaseExpiresAt === null || saga.leaseExpiresAt <= now;
      if (!expired && !(saga.owner !== null && dead.has(saga.owner) && RECLAIMABLE.has(saga.status))) continue;
      if (names && !names.has(saga.name)) continue;
      if (defs && !defs.has(`${saga.name}@${saga.version}`)) continue;
      const previousOwner = saga.owner;
      this.takeOver(saga, req.owner, req.leaseMs, now);
      out.push({ saga: summarize(saga), lease: { owner: req.owner, fencingToken: saga.fencingToken }, previousOwner });
      if (out.length >= req.limit) break;
    }
    return out;
  }

  async claimSaga(req: ClaimSagaRequest): Promise<Claimed | undefined> {
    this.ensureOpen();
    const now = this.now();
    const saga = this.sagas.get(req.sagaId);
    if (!saga || !(RECLAIMABLE.has(saga.status) || saga.status === 'pending')) return undefined;
    const expired = saga.leaseExpiresAt === null || saga.leaseExpiresAt <= now;
    const held = req.ifHeldBy !== undefined && req.ifHeldBy.owner === saga.owner && req.ifHeldBy.fencingToken === saga.fencingToken;
    if (!expired && !held && req.force !== true) return undefined;
    const previousOwner = saga.owner;
    this.takeOver(saga, req.owner, req.leaseMs, now);
    return { saga: summarize(saga), lease: { owner: req.owner, fencingToken: saga.fencingToken }, previousOwner };
  }

  async renew(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, leaseMs: number): Promise<string[]> {
    this.ensureOpen();
    const now = this.now();
    const lost: string[] = [];
    for (const h of held) {
      const saga = this.sagas.get(h.sagaId);
      if (!saga || saga.fencingToken !== h.fencingToken || saga.owner !== owner) {
        lost.push(h.sagaId);
        continue;
      }
      // A finished saga needs no lease; it is neither renewed nor reported lost.
      if (isFinal(saga.status)) continue;
      saga.leaseExpiresAt = now + leaseMs;
      saga.updatedAt = now;
    }
    return lost;
  }

  async release(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, delayMs?: number): Promise<void> {
    this.ensureOpen();
    const now = this.now();
    for (const h of held) {
      const saga = this.sagas.get(h.sagaId);
      if (!saga || saga.fencingToken !== h.fencingToken || saga.owner !== owner) continue;
      if (isFinal(saga.status)) continue;
      if (delayMs !== undefined && delayMs > 0) {
        saga.leaseExpiresAt = now + delayMs;
        saga.owner = null;
      } else saga.leaseExpiresAt = 0;
      saga.updatedAt = now;
      this.changed(h.sagaId);
    }
  }

  async claimStuck(sagaId: string, owner: string, leaseMs: number): Promise<{ saga: SagaSummary; lease: Lease } | undefined> {
    this.ensureOpen();
    const saga = this.sagas.get(sagaId);
    if (!saga || saga.status !== 'stuck') return undefined;
    const now = this.now();
    if (saga.leaseExpiresAt !== null && saga.leaseExpiresAt > now) return undefined; // another retry holds it
    this.takeOver(saga, owner, leaseMs, now);
    return { saga: summarize(saga), lease: { owner, fencingToken: saga.fencingToken } };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private takeOver(saga: MemorySaga, owner: string, leaseMs: number, now: number): void {
    saga.owner = owner;
    saga.fencingToken += 1;
    saga.leaseExpiresAt = now + leaseMs;
    saga.updatedAt = now;
  }

  /** Oldest first: createdAt, then id (the order the SQL backends use). */
  private ordered(): MemorySaga[] {
    return [...this.sagas.values()].sort((a, b) => a.createdAt - b.createdAt || compareIds(a.sagaId, b.sagaId));
  }

  private ensureOpen(): void {
    if (this.closed) throw closedError(this.kind);
  }
}

function entry(saga: MemorySaga): SagaEntry {
  return { ...summarize(saga), key: saga.key, startedAt: saga.recordTimes[0] ?? null, endedAt: saga.endedAt };
}

function summarize(saga: MemorySaga): SagaSummary {
  return {
    sagaId: saga.sagaId,
    name: saga.name,
    version: saga.version,
    status: saga.status,
    owner: saga.owner,
    fencingToken: saga.fencingToken,
    leaseExpiresAt: saga.leaseExpiresAt,
    createdAt: saga.createdAt,
    updatedAt: saga.updatedAt,
    reason: saga.reason === null ? null : { ...saga.reason },
  };
}

function parseRecord(text: string): LogRecord {
  return JSON.parse(text) as LogRecord;
}

/** Byte-wise order, as SQLite's BINARY and PostgreSQL's "C" collation compare ASCII ids. */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
