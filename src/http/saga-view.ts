// Turns stored sagas into the API's shapes: the list row (with attempts, retrying, failed steps,
// computed from the records) and the saga page's timeline (bars per step attempt and compensation,
// on wall-clock time: this server's own hook stamps when it ran the saga, else the times the log
// stamped on each record, whoever ran it; log order only for records older than those times).
import type { LogRecord, SagaEntry, SagaStatus, StoredSaga } from '../saga/index.js';
import { operationOf } from './step-operations.js';
import type { TimingEvent } from './timings.js';

export interface RetryWait {
  step: string;
  phase: 'forward' | 'compensation';
  /** The attempt that failed; the next one is attempt + 1. */
  attempt: number;
  error: { code: string; message: string };
  retryInMs: number | null;
  /** The failure is the saga's last record (so updatedAt is when it was written). */
  last: boolean;
}

export interface RecordFacts {
  attempts: number;
  retrying: boolean;
  failedSteps: string[];
  /** A failed attempt whose retry has not started yet (the saga waits on that step's store). */
  waiting: RetryWait | null;
}

/** `retrying` as the log's filter defines it (LogFilter.retrying), so a row and its filter agree. */
export function recordFacts(status: SagaStatus, records: readonly LogRecord[]): RecordFacts {
  let attempts = 0;
  const failed = new Set<string>();
  const open = new Map<string, RetryWait>();
  records.forEach((r, i) => {
    if ('attempt' in r) attempts = Math.max(attempts, r.attempt);
    if (r.type === 'step_failed' || r.type === 'compensation_failed') {
      failed.add(r.step);
      const phase = r.type === 'step_failed' ? 'forward' : 'compensation';
      const retryInMs = r.type === 'step_failed' ? (r.retryInMs ?? null) : null;
      if (r.willRetry)
        open.set(`${phase}:${r.step}`, {
          step: r.step,
          phase,
          attempt: r.attempt,
          error: { code: r.error.code, message: r.error.message },
          retryInMs,
          last: i === records.length - 1,
        });
      else open.delete(`${phase}:${r.step}`);
    } else if (r.type === 'step_started' || r.type === 'compensation_started') {
      open.delete(`${r.type === 'step_started' ? 'forward' : 'compensation'}:${r.step}`);
    } else if (r.type === 'status' && r.status !== 'running' && r.status !== 'compensating') {
      open.clear(); // ended or stuck: nothing waits for a retry any more
    }
  });
  const waits = [...open.values()];
  const last = records[records.length - 1];
  const retrying =
    status === 'running' &&
    last !== undefined &&
    ((last.type === 'step_failed' && last.willRetry) || (last.type === 'step_started' && last.attempt > 1));
  return { attempts, retrying, failedSteps: [...failed], waiting: waits[waits.length - 1] ?? null };
}

/** The store a step talks to, from its operation text ("Qdrant: ..."). */
function storeOf(step: string, phase: 'forward' | 'compensation'): string | null {
  const op = operationOf(step, phase);
  return op ? (op.split(':')[0] ?? null) : null;
}

function waitView(w: RetryWait | null, s: SagaEntry) {
  if (!w) return null;
  // Record times are not stored (yet): the next attempt's time is known when the failure is the
  // saga's last append (updatedAt is then its time) and carried a durable retry delay.
  const nextAttemptAt = w.last && w.retryInMs !== null ? iso(s.updatedAt + w.retryInMs) : null;
  return {
    step: w.step,
    phase: w.phase,
    store: storeOf(w.step, w.phase),
    nextAttempt: w.attempt + 1,
    error: w.error,
    retryInMs: w.retryInMs,
    nextAttemptAt,
  };
}

export function docIdOf(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return null;
  const rec = input as { doc?: { id?: unknown }; docId?: unknown };
  if (typeof rec.doc?.id === 'string') return rec.doc.id;
  return typeof rec.docId === 'string' ? rec.docId : null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Queue time (created -> first written by an owner) and running time (-> ended) apart: one duration
 * made a saga that waited 12 s in the queue and ran 0.65 s look 13 s slow. For a saga not ended yet
 * both run up to its last log change, never to "now": an answer that only changes when the log does
 * keeps its ETag, so the dashboard's polls of an unchanged list are 304s (the page ticks the live
 * part itself from the timestamps).
 */
function phases(s: SagaEntry): { queuedMs: number; runningMs: number | null } {
  const stopped = s.endedAt ?? s.updatedAt;
  if (s.startedAt === null) return { queuedMs: Math.max(0, stopped - s.createdAt), runningMs: null };
  return { queuedMs: Math.max(0, s.startedAt - s.createdAt), runningMs: Math.max(0, stopped - s.startedAt) };
}

export function summaryView(s: SagaEntry, facts: RecordFacts, docId: string | null) {
  const final = s.status === 'completed' || s.status === 'compensated';
  return {
    sagaId: s.sagaId,
    name: s.name,
    version: s.version,
    status: s.status,
    owner: s.owner,
    fencingToken: s.fencingToken,
    // An ended saga holds no lease, whatever its last owner's expiry says.
    leaseExpiresAt: final || s.leaseExpiresAt === null ? null : iso(s.leaseExpiresAt),
    createdAt: iso(s.createdAt),
    startedAt: s.startedAt === null ? null : iso(s.startedAt),
    endedAt: s.endedAt === null ? null : iso(s.endedAt),
    updatedAt: iso(s.updatedAt),
    ...phases(s),
    reason: s.reason,
    attempts: facts.attempts,
    retrying: facts.retrying,
    failedSteps: facts.failedSteps,
    docId,
    waitingOn: s.status === 'running' || s.status === 'compensating' || s.status === 'pending' ? waitView(facts.waiting, s) : null,
  };
}

export type SagaSummaryView = ReturnType<typeof summaryView>;

interface Bar {
  step: string;
  phase: 'forward' | 'compensation';
  attempt: number;
  stage: number;
  start: number;
  end: number | null;
  outcome: 'succeeded' | 'failed' | 'running' | 'unknown';
  error: { code: string; message: string; retryable?: boolean } | null;
  operation: string | null;
}

/**
 * Bars from the records: one per step attempt and per compensation attempt. Steps whose
 * step_started records sit together (no other record between them) started together: a parallel
 * group, one stage. With `events` (this server's hook stamps) bars get wall-clock times.
 */
export function timelineBars(
  records: readonly LogRecord[],
  events: readonly TimingEvent[] | undefined,
  running: boolean,
  recordTimes: ReadonlyArray<number | null> = [],
) {
  const bars: Bar[] = [];
  const open = new Map<string, Bar>();
  let stage = -1;
  let prevWasStart = false;
  records.forEach((r, seq) => {
    const isStart = r.type === 'step_started' || r.type === 'compensation_started';
    if (isStart && !prevWasStart) stage++;
    prevWasStart = isStart;
    if (r.type === 'step_started' || r.type === 'compensation_started') {
      const phase = r.type === 'step_started' ? 'forward' : 'compensation';
      const bar: Bar = {
        step: r.step,
        phase,
        attempt: r.attempt,
        stage,
        start: seq,
        end: null,
        outcome: running ? 'running' : 'unknown',
        error: null,
        operation: operationOf(r.step, phase),
      };
      bars.push(bar);
      open.set(`${phase}:${r.step}`, bar);
    } else if (r.type === 'step_succeeded' || r.type === 'compensation_succeeded') {
      const bar = open.get(`${r.type === 'step_succeeded' ? 'forward' : 'compensation'}:${r.step}`);
      if (bar) Object.assign(bar, { end: seq, outcome: 'succeeded' });
    } else if (r.type === 'step_failed' || r.type === 'compensation_failed') {
      const bar = open.get(`${r.type === 'step_failed' ? 'forward' : 'compensation'}:${r.step}`);
      if (bar) Object.assign(bar, { end: seq, outcome: 'failed', error: r.error });
    }
  });
  for (const b of bars) if (b.end === null) b.end = records.length;
  const wall = (events !== undefined && applyWallClock(bars, events)) || applyRecordTimes(bars, recordTimes, running);
  return { bars, timeAxis: wall ? ('wall' as const) : ('seq' as const) };
}

/**
 * Replaces seq positions with the times the log stamped on the records (any process ran the
 * saga). Records of one group commit share a time, so a bar may be 0 ms long: the log's clock
 * says when a record became durable, not when the step's work started. A bar still open ends at
 * null (running) or at its saga's last record. False when some record has no time (older log).
 */
function applyRecordTimes(bars: Bar[], times: ReadonlyArray<number | null>, running: boolean): boolean {
  if (bars.length === 0 || times.length === 0) return false;
  const at = (seq: number): number | null => times[seq] ?? null;
  const mapped = bars.map((b) => ({ b, start: at(b.start), end: b.end === null ? null : b.end >= times.length ? undefined : at(b.end) }));
  if (mapped.some((x) => x.start === null || x.end === null)) return false;
  const lastTime = at(times.length - 1);
  for (const x of mapped) {
    x.b.start = x.start ?? 0;
    x.b.end = x.end === undefined ? (running ? null : lastTime) : x.end;
  }
  return true;
}

/** Replaces seq positions with hook times when every bar has a matching start event. */
function applyWallClock(bars: Bar[], events: readonly TimingEvent[]): boolean {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const e of events) {
    const phase =
      e.kind === 'step_start' || e.kind === 'step_end'
        ? 'forward'
        : e.kind === 'comp_start' || e.kind === 'comp_end'
          ? 'compensation'
          : undefined;
    if (!phase || e.step === undefined) continue;
    const k = `${phase}:${e.step}:${e.attempt ?? 0}`;
    if (e.kind.endsWith('_start')) starts.set(k, e.t);
    else ends.set(k, e.t);
  }
  const timed = bars.map((b) => {
    const k = `${b.phase}:${b.step}:${b.attempt}`;
    return { b, start: starts.get(k), end: ends.get(k) };
  });
  if (timed.length === 0 || timed.some((x) => x.start === undefined)) return false;
  for (const x of timed) {
    x.b.start = x.start ?? 0;
    x.b.end = x.end ?? null;
  }
  return true;
}

/** The stored input, or a truncated JSON preview when it is larger than `maxBytes`. */
export function limitedInput(input: unknown, maxBytes: number): { input: unknown; inputTruncated: boolean } {
  const json = JSON.stringify(input) ?? 'null';
  if (Buffer.byteLength(json, 'utf8') <= maxBytes) return { input, inputTruncated: false };
  return { input: `${Buffer.from(json, 'utf8').subarray(0, maxBytes).toString('utf8')}…`, inputTruncated: true };
}

export function recordViews(records: readonly LogRecord[], times: ReadonlyArray<number | null> = []) {
  return records.map((r, seq) => ({
    seq,
    at: times[seq] == null ? null : iso(times[seq] as number),
    type: r.type,
    step: 'step' in r ? r.step : null,
    attempt: 'attempt' in r ? r.attempt : null,
    status: r.type === 'status' ? r.status : null,
    error: r.type === 'step_failed' || r.type === 'compensation_failed' ? r.error : r.type === 'status' ? (r.reason ?? null) : null,
    ...(r.type === 'status' && r.cancel
      ? { cancel: { by: r.cancel.by, at: new Date(r.cancel.at).toISOString(), message: r.cancel.message } }
      : {}),
    willRetry: 'willRetry' in r ? r.willRetry : null,
    ...(r.type === 'step_succeeded' ? { output: r.output } : {}),
  }));
}

export function outputsOf(saga: StoredSaga): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of saga.records) if (r.type === 'step_succeeded') out[r.step] = r.output;
  return out;
}
