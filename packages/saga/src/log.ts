// The durable saga log: the record types the engine writes, the saga statuses and their legal
// transitions, and the SagaLog interface every backend (memory, SQLite, PostgreSQL) implements.
// Backends store records; the engine alone decides what they mean (see replay.ts).

export type SagaStatus =
  | 'pending' // submitted to the queue, not yet claimed by a worker
  | 'running'
  | 'compensating'
  | 'completed'
  | 'compensated'
  | 'stuck';

export const FINAL_STATUSES: ReadonlySet<SagaStatus> = new Set(['completed', 'compensated']);

/** Legal status transitions. `stuck` is not final: an operator can retry it. */
const TRANSITIONS: Record<SagaStatus, readonly SagaStatus[]> = {
  // pending -> compensating: a queued saga cancelled before it ran (nothing to undo).
  pending: ['running', 'compensating'],
  running: ['completed', 'compensating', 'stuck'],
  compensating: ['compensated', 'stuck'],
  stuck: ['running', 'compensating'],
  completed: [],
  compensated: [],
};

export function canTransition(from: SagaStatus, to: SagaStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isFinal(status: SagaStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** A JSON value: everything in the log must survive a round trip through JSON. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ErrorInfo {
  code: string;
  message: string;
  /** true when the error is known to be transient (the retry policy's view). */
  retryable?: boolean;
}

/** One durable fact about a saga. `seq` orders a saga's records, starting at 0. */
export type LogRecord =
  /** `since`: epoch ms of the step's first attempt, written when its retry policy has a time budget. */
  | { type: 'step_started'; step: string; attempt: number; since?: number }
  | { type: 'step_succeeded'; step: string; output: Json }
  /** `retryInMs`: the next attempt waits this long as a durable timer (the saga was released). */
  | { type: 'step_failed'; step: string; attempt: number; error: ErrorInfo; willRetry: boolean; retryInMs?: number }
  | { type: 'compensation_started'; step: string; attempt: number }
  | { type: 'compensation_succeeded'; step: string }
  | { type: 'compensation_failed'; step: string; attempt: number; error: ErrorInfo; willRetry: boolean }
  | { type: 'status'; status: SagaStatus; reason?: ErrorInfo };

export interface SagaHeader {
  sagaId: string;
  name: string;
  version: number;
  input: Json;
}

/** Caller-supplied string pairs stored with the saga (for example a W3C traceparent). */
export type SagaMeta = Record<string, string>;

export interface StoredSaga extends SagaHeader {
  /** Stored with the saga at begin; null when none was given. */
  meta: SagaMeta | null;
  /** Epoch ms (engine clock): past it, a saga that has not reached its pivot compensates. */
  deadlineAt: number | null;
  status: SagaStatus;
  owner: string | null;
  fencingToken: number;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  /** The reason of the last transition to `stuck` or `compensating`, if any. */
  reason: ErrorInfo | null;
  records: LogRecord[];
}

export interface SagaSummary {
  sagaId: string;
  name: string;
  version: number;
  status: SagaStatus;
  owner: string | null;
  fencingToken: number;
  leaseExpiresAt: number | null;
  createdAt: number;
  updatedAt: number;
  reason: ErrorInfo | null;
}

/** Who may write a saga's records: the owner holding this token. */
export interface Lease {
  owner: string;
  fencingToken: number;
}

export interface BeginRequest extends SagaHeader {
  /** `running` (start now, owned by `owner`) or `pending` (queued, no owner yet). */
  status: 'running' | 'pending';
  owner: string | null;
  leaseMs: number;
  meta?: SagaMeta;
  deadlineAt?: number;
  /**
   * Records appended at seq 0 in the same commit, only when this call creates the saga (the
   * engine sends its first stage's `step_started` here: one commit fewer per saga). Status
   * records are not allowed here.
   */
  records?: LogRecord[];
}

export type BeginResult =
  | { created: true; lease: Lease }
  | { created: false; existing: SagaSummary };

export interface AppendRequest {
  sagaId: string;
  lease: Lease;
  /** Sequence number of the first record; the engine numbers records itself. */
  firstSeq: number;
  records: LogRecord[];
  /** When set, the saga's lease is extended to now + leaseMs in the same commit. */
  leaseMs?: number;
}

export interface ClaimRequest {
  owner: string;
  leaseMs: number;
  limit: number;
  /** Also claim queued (`pending`) sagas, oldest first. */
  includePending: boolean;
  /** Restrict to these saga names. */
  names?: readonly string[];
  /** Restrict to these (name, version) pairs: a worker claims only what it has registered. */
  definitions?: ReadonlyArray<{ name: string; version: number }>;
  /**
   * Owners known to be dead (same host, process gone): their sagas are claimed at once, without
   * waiting for the lease to lapse.
   */
  deadOwners?: readonly string[];
}

/** Claims one saga by id (settle, cancel): see SagaLog.claimSaga. */
export interface ClaimSagaRequest {
  sagaId: string;
  owner: string;
  leaseMs: number;
  /** Take it even under a live lease when it is still held by exactly this owner and token (a dead owner). */
  ifHeldBy?: { owner: string | null; fencingToken: number };
  /** Take it under any live lease (cancel): the current owner is fenced. */
  force?: boolean;
}

/** A claimed saga, its new lease, and who held it before (null: pending or released timer). */
export interface Claimed {
  saga: SagaSummary;
  lease: Lease;
  previousOwner: string | null;
}

export interface CountFilter {
  status?: SagaStatus;
  name?: string;
  version?: number;
}

/** What a backend reports after each durable group commit (metrics). */
export interface CommitEvent {
  /** Log records written by the commit. */
  records: number;
  /** Distinct sagas the commit touched. */
  sagas: number;
  durationMs: number;
}

export interface ListFilter {
  status?: SagaStatus;
  name?: string;
  version?: number;
  limit?: number;
}

/**
 * A durable, append-only saga log. Every promise resolves only after its effect is durable.
 * Backends must reject an append whose lease token is not the saga's current one with a
 * SagaError of code `SAGA_FENCED`, and must write nothing of that append.
 */
export interface SagaLog {
  readonly kind: string;
  /** Set by the caller: called after every durable group commit (never throws into the log). */
  onCommit?: ((e: CommitEvent) => void) | undefined;
  /** Creates the saga if its id is new; otherwise returns the existing saga, untouched. */
  begin(req: BeginRequest): Promise<BeginResult>;
  /** Appends records atomically (all or none). A `status` record also sets the saga's status. */
  append(req: AppendRequest): Promise<void>;
  load(sagaId: string): Promise<StoredSaga | undefined>;
  /**
   * Several sagas in one round trip (a worker loads the batch it just claimed); unknown ids are
   * left out. Optional: the engine falls back to one load per saga.
   */
  loadMany?(sagaIds: readonly string[]): Promise<StoredSaga[]>;
  /**
   * Claims sagas that are not final and whose lease expired (or that are pending when
   * includePending): sets owner, bumps the fencing token, sets the lease. Stuck sagas are never
   * claimed: they wait for an operator.
   */
  claim(req: ClaimRequest): Promise<Claimed[]>;
  /**
   * Claims one saga that is pending, running or compensating when its lease has expired (or it
   * has none), or `ifHeldBy` still matches, or `force`. Token + 1. undefined when not claimable.
   */
  claimSaga(req: ClaimSagaRequest): Promise<Claimed | undefined>;
  /** Owners holding running/compensating sagas under a live lease, with how many each. */
  owners(): Promise<Array<{ owner: string; sagas: number }>>;
  /**
   * Resolves when the saga may have changed (a status change or a released lease), or after
   * `timeoutMs`. Backends without notifications omit it; callers then poll.
   */
  waitForChange?(sagaId: string, timeoutMs: number): Promise<void>;
  /** Extends leases still held; returns the ids whose lease was lost (token moved on). */
  renew(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, leaseMs: number): Promise<string[]>;
  /**
   * Gives up leases (graceful shutdown): the sagas become claimable at once. With `delayMs`
   * (a durable timer) they become claimable that long from now and keep no owner meanwhile.
   */
  release(owner: string, held: ReadonlyArray<{ sagaId: string; fencingToken: number }>, delayMs?: number): Promise<void>;
  /**
   * Takes a stuck saga for an operator retry: like claim, for one saga in status `stuck` whose
   * lease has expired (or was released); undefined otherwise, so two retries never run it twice.
   */
  claimStuck(sagaId: string, owner: string, leaseMs: number): Promise<{ saga: SagaSummary; lease: Lease } | undefined>;
  close(): Promise<void>;
}

/**
 * The operators' queries on a saga log (CLI `sagas list|prune`, the HTTP API, metrics): not used by
 * the engine, which needs only SagaLog. Kept apart so that a backend for the engine alone stays
 * small, and so that these queries can grow (filters, cursors) without touching the engine.
 */
export interface SagaLogQueries {
  list(filter?: ListFilter): Promise<SagaSummary[]>;
  /** Number of sagas matching the filter (no listing). */
  count(filter?: CountFilter): Promise<number>;
  /**
   * Retention: deletes up to `limit` sagas that ended (completed or compensated) before
   * `endedBefore` (epoch ms, the saga's last update), with their records. Never touches a saga that
   * is pending, running, compensating or stuck. Returns how many were deleted.
   */
  prune(endedBefore: number, limit: number): Promise<number>;
}

/** What every bundled backend (memory, SQLite, PostgreSQL) implements: the engine's log and the
 * operators' queries. */
export interface SagaLogBackend extends SagaLog, SagaLogQueries {}
