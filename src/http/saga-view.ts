// Turns stored sagas into the API's shapes: the list row (with attempts, retrying, failed steps,
// computed from the records) and the saga page's timeline (bars per step attempt and compensation,
// on wall-clock time when this server ran the saga, else on log order).
import type { LogRecord, SagaSummary, StoredSaga } from '../saga/index.js';
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

export function recordFacts(records: readonly LogRecord[]): RecordFacts {
  let attempts = 0;
  const failed = new Set<string>();
  const open = new Map<string, RetryWait>();
  records.forEach((r, i) => {
    if ('attempt' in r) attempts = Math.max(attempts, r.attempt);
    if (r.type === 'step_failed' || r.type === 'compensation_failed') {
      failed.add(r.step);
      const phase = r.type === 'step_failed' ? 'forward' : 'compensation';
      const retryInMs = r.type === 'step_failed' ? (r.retryInMs ?? null) : null;
      if (r.willRetry) open.set(`${phase}:${r.step}`, { step: r.step, phase, attempt: r.attempt, error: { code: r.error.code, message: r.error.message }, retryInMs, last: i === records.length - 1 });
      else open.delete(`${phase}:${r.step}`);
    } else if (r.type === 'step_started' || r.type === 'compensation_started') {
      open.delete(`${r.type === 'step_started' ? 'forward' : 'compensation'}:${r.step}`);
    } else if (r.type === 'status' && r.status !== 'running' && r.status !== 'compensating') {
      open.clear(); // ended or stuck: nothing waits for a retry any more
    }
  });
  const waits = [...open.values()];
  return { attempts, retrying: attempts > 1, failedSteps: [...failed], waiting: waits[waits.length - 1] ?? null };
}

/** The store a step talks to, from its operation text ("Qdrant: ..."). */
function storeOf(step: string, phase: 'forward' | 'compensation'): string | null {
  const op = operationOf(step, phase);
  return op ? (op.split(':')[0] ?? null) : null;
}

function waitView(w: RetryWait | null, s: SagaSummary) {
  if (!w) return null;
  // Record times are not stored (yet): the next attempt's time is known when the failure is the
  // saga's last append (updatedAt is then its time) and carried a durable retry delay.
  const nextAttemptAt = w.last && w.retryInMs !== null ? iso(s.updatedAt + w.retryInMs) : null;
  return { step: w.step, phase: w.phase, store: storeOf(w.step, w.phase), nextAttempt: w.attempt + 1, error: w.error, retryInMs: w.retryInMs, nextAttemptAt };
}

export function docIdOf(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return null;
  const rec = input as { doc?: { id?: unknown }; docId?: unknown };
  if (typeof rec.doc?.id === 'string') return rec.doc.id;
  return typeof rec.docId === 'string' ? rec.docId : null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function summaryView(s: SagaSummary, facts: RecordFacts, docId: string | null) {
  return {
    sagaId: s.sagaId,
    name: s.name,
    version: s.version,
    status: s.status,
    owner: s.owner,
    fencingToken: s.fencingToken,
    leaseExpiresAt: s.leaseExpiresAt === null ? null : iso(s.leaseExpiresAt),
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
    // Up to the last log change, also while it runs: an answer that only changes when the log does
    // keeps its ETag, so the dashboard's polls of an unchanged list are 304s.
    durationMs: s.updatedAt - s.createdAt,
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
export function timelineBars(records: readonly LogRecord[], events: readonly TimingEvent[] | undefined, running: boolean) {
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
      const bar: Bar = { step: r.step, phase, attempt: r.attempt, stage, start: seq, end: null, outcome: running ? 'running' : 'unknown', error: null, operation: operationOf(r.step, phase) };
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
  const wall = events !== undefined && applyWallClock(bars, events);
  return { bars, timeAxis: wall ? ('wall' as const) : ('seq' as const) };
}

/** Replaces seq positions with hook times when every bar has a matching start event. */
function applyWallClock(bars: Bar[], events: readonly TimingEvent[]): boolean {
  const starts = new Map<string, number>();
  const ends = new Map<string, number>();
  for (const e of events) {
    const phase = e.kind === 'step_start' || e.kind === 'step_end' ? 'forward' : e.kind === 'comp_start' || e.kind === 'comp_end' ? 'compensation' : undefined;
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

export function recordViews(records: readonly LogRecord[]) {
  return records.map((r, seq) => ({
    seq,
    type: r.type,
    step: 'step' in r ? r.step : null,
    attempt: 'attempt' in r ? r.attempt : null,
    status: r.type === 'status' ? r.status : null,
    error: r.type === 'step_failed' || r.type === 'compensation_failed' ? r.error : r.type === 'status' ? (r.reason ?? null) : null,
    ...(r.type === 'status' && r.cancel ? { cancel: { by: r.cancel.by, at: new Date(r.cancel.at).toISOString(), message: r.cancel.message } } : {}),
    willRetry: 'willRetry' in r ? r.willRetry : null,
    ...(r.type === 'step_succeeded' ? { output: r.output } : {}),
  }));
}

export function outputsOf(saga: StoredSaga): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of saga.records) if (r.type === 'step_succeeded') out[r.step] = r.output;
  return out;
}
