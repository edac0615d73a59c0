// In-memory SagaLog: the reference semantics for tests and the engine's unit tests. Records are
// kept as JSON text so that anything that would not survive a real backend fails here too.
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
import { isFinal } from '../saga/log.js';
import {
  checkAppendShape,
  closedError,
  fencedError,
  nextReason,
  notFoundError,
  RECLAIMABLE,
  seqError,
  toJsonText,
} from './common.js';

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
  records: string[];
}

export interface MemorySagaLogOptions {
  now?: () => number;
}

export class MemorySagaLog implements SagaLog {
  readonly kind = 'memory';
  readonly durability = 'none (process memory)';
  private readonly sagas = new Map<string, MemorySaga>();
  private readonly now: () => number;
  private closed = false;

  constructor(options: MemorySagaLogOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  async begin(req: BeginRequest): Promise<BeginResult> {
    this.ensureOpen();
    const existing = this.sagas.get(req.sagaId);
    if (existing) return { created: false, existing: summarize(existing) };
    const now = this.now();
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
      records: (req.records ?? []).map((r) => toJsonText(r, `saga ${req.sagaId} record`)),
    };
    this.sagas.set(req.sagaId, saga);
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
    saga.records.push(...texts);
    for (const rec of req.records) if (rec.type === 'status') saga.status = rec.status;
    saga.reason = nextReason(saga.reason, req.records);
    if (req.leaseMs !== undefined) saga.leaseExpiresAt = now + req.leaseMs;
    saga.updatedAt = now;
  }

  async prune(endedBefore: number, limit: number): Promise<number> {
    this.ensureOpen();
    let n = 0;
    for (const [id, saga] of this.sagas) {
      if (n >= limit) break;
      if (isFinal(saga.status) && saga.updatedAt < endedBefore) {
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
    return { ...summarize(saga), input: JSON.parse(saga.inputJson) as Json, records: saga.records.map(parseRecord) };
  }

  async list(filter: ListFilter = {}): Promise<SagaSummary[]> {
    this.ensureOpen();
    const out: SagaSummary[] = [];
    for (const saga of this.ordered()) {
      if (filter.status !== undefined && saga.status !== filter.status) continue;
      if (filter.name !== undefined && saga.name !== filter.name) continue;
      out.push(summarize(saga));
      if (filter.limit !== undefined && out.length >= filter.limit) break;
    }
    return out;
  }

  async claim(req: ClaimRequest): Promise<Array<{ saga: SagaSummary; lease: Lease }>> {
    this.ensureOpen();
    const now = this.now();
    const names = req.names ? new Set(req.names) : undefined;
    const out: Array<{ saga: SagaSummary; lease: Lease }> = [];
    if (req.limit <= 0) return out;
    for (const saga of this.ordered()) {
      const eligible = RECLAIMABLE.has(saga.status) || (req.includePending && saga.status === 'pending');
      if (!eligible) continue;
      if (saga.leaseExpiresAt !== null && saga.leaseExpiresAt > now) continue;
      if (names && !names.has(saga.name)) continue;
      this.takeOver(saga, req.owner, req.leaseMs, now);
      out.push({ saga: summarize(saga), lease: { owner: req.owner, fencingToken: saga.fencingToken } });
      if (out.length >= req.limit) break;
    }
    return out;
  }

  async renew(
    owner: string,
    held: ReadonlyArray<{ sagaId: string; fencingToken: number }>,
    leaseMs: number,
  ): Promise<string[]> {
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

  async release(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>): Promise<void> {
    this.ensureOpen();
    const now = this.now();
    for (const h of held) {
      const saga = this.sagas.get(h.sagaId);
      if (!saga || saga.fencingToken !== h.fencingToken || saga.owner !== owner) continue;
      if (isFinal(saga.status)) continue;
      saga.leaseExpiresAt = 0;
      saga.updatedAt = now;
    }
  }

  async claimStuck(
    sagaId: string,
    owner: string,
    leaseMs: number,
  ): Promise<{ saga: SagaSummary; lease: Lease } | undefined> {
    this.ensureOpen();
    const saga = this.sagas.get(sagaId);
    if (!saga || saga.status !== 'stuck') return undefined;
    this.takeOver(saga, owner, leaseMs, this.now());
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
