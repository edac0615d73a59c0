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
  /** `cancel`: on the `compensating` record a cancel() wrote: who, when, why (absent in older logs). */
  | { type: 'status'; status: SagaStatus; reason?: ErrorInfo; cancel?: CancelInfo };

/**
 * Who cancelled a saga, when (epoch ms, the engine's clock) and why. Kept apart from the saga's
 * reason: cancelling a saga that had already failed (stuck, or compensating) keeps that failure as
 * its reason; a saga cancelled while it was fine gets SAGA_CANCELLED.
 */
export interface CancelInfo {
  by: string;
  at: number;
  message: string;
}

export interface SagaHeader {
  sagaId: string;
  name: string;
  version: number;
  input: Json;
}

/** Caller-supplied string pairs stored with the saga (for example a W3C traceparent). */
export type SagaMeta = Record<string, string>;

export interface StoredSaga extends SagaHeader, SagaTimes {
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
  /**
   * When each record became durable (epoch ms on the LOG's clock: PostgreSQL's on the PostgreSQL
   * log), index for index with `records`; null for records written before the log kept times.
   */
  recordTimes: Array<number | null>;
}

/** What operators need beyond the summary: the saga's subject and its wall-clock phases. */
export interface SagaTimes {
  /** The subject given at begin (the memory writer's document id), or null. */
  key: string | null;
  /** When an owner first wrote to it (its first record): createdAt + queue time. null: never ran. */
  startedAt: number | null;
  /** When it became completed or compensated; null while it is not final. */
  endedAt: number | null;
}

/** A row of the operators' list: the summary and its times. */
export interface SagaEntry extends SagaSummary, SagaTimes {}

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
  /** The saga's subject (e.g. a document id), indexed for `list({ key })`; at most 500 chars. */
  key?: string;
  /**
   * Records appended at seq 0 in the same commit, only when this call creates the saga (the
   * engine sends its first stage's `step_started` here: one commit fewer per saga). Status
   * records are not allowed here.
   */
  records?: LogRecord[];
}

export type BeginResult = { created: true; lease: Lease } | { created: false; existing: SagaSummary };

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

/** What a backend reports after each durable group commit (metrics). */
export interface CommitEvent {
  /** Log records written by the commit. */
  records: number;
  /** Distinct sagas the commit touched. */
  sagas: number;
  durationMs: number;
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
 * What the operators' queries select. Every field narrows (AND); each is answered by the log's own
 * query from an index (docs/saga-log.md lists them), never by reading pages in the caller.
 */
export interface LogFilter {
  /** Any of these statuses. */
  status?: SagaStatus | readonly SagaStatus[];
  name?: string;
  version?: number;
  /** The subject given at begin (BeginRequest.key). */
  key?: string;
  /** The current (or last) lease holder. */
  owner?: string;
  /** The reason's code (the last move to stuck/compensating): SAGA_CANCELLED, a fault code, ... */
  reasonCode?: string;
  /**
   * true: running sagas in a step retry: the last record is a failed step attempt that will be
   * retried, or a step attempt after the first. false: all others.
   */
  retrying?: boolean;
  /** Sagas in which this step (or its compensation) failed at least once. */
  failedStep?: string;
  /** Created at or after (epoch ms). */
  createdFrom?: number;
  /** Created before (epoch ms). */
  createdBefore?: number;
}

/** Keyset paging: the cursor is opaque, issued by the same backend for the same order. */
export interface LogPageOptions {
  /** 1..MAX_PAGE (default DEFAULT_PAGE). */
  limit?: number;
  /** `next` of the previous page. */
  cursor?: string;
  /** `desc` (default): newest first. */
  order?: 'desc' | 'asc';
}

export interface LogPage {
  sagas: SagaEntry[];
  /** Pass as `cursor` for the next page; null when this page is the last. */
  next: string | null;
}

export interface LogCount {
  /** Exact when !capped; else the cap (there are more). */
  count: number;
  capped: boolean;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 10_000;

/**
 * The operators' queries on a saga log (CLI `sagas list|prune`, the HTTP API, metrics): not used by
 * the engine, which needs only SagaLog. Kept apart so that a backend for the engine alone stays
 * small, and so that these queries can grow (filters, cursors) without touching the engine.
 */
export interface SagaLogQueries {
  /** One page of matching sagas, newest first by default; `next` continues after its last row. */
  list(filter?: LogFilter, page?: LogPageOptions): Promise<LogPage>;
  /** Exact number of sagas matching the filter (reads every match: prefer countUpTo on big logs). */
  count(filter?: LogFilter): Promise<number>;
  /** Counts matches up to `cap` and stops there: `{ count: cap, capped: true }` means "cap+". */
  countUpTo(filter: LogFilter, cap: number): Promise<LogCount>;
  /**
   * Retention: deletes up to `limit` sagas that ended (completed or compensated) before
   * `endedBefore` (epoch ms, SagaTimes.endedAt), oldest ended first, from an index, with their
   * records. Never touches a saga that is pending, running, compensating or stuck. Returns how
   * many were deleted; call again for the next batch.
   */
  prune(endedBefore: number, limit: number): Promise<number>;
}

/** What every bundled backend (memory, SQLite, PostgreSQL) implements: the engine's log and the
 * operators' queries. */
export interface SagaLogBackend extends SagaLog, SagaLogQueries {}
