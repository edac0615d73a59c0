// Compact text encoding of one append's records for the SQLite log: one JSON array per append,
// each record a positional tuple whose first element is its type code, e.g.
//   [[1,"neo4j_write",null],[0,"postgres_write",1]]
// instead of one `{"type":"step_started","step":...,"attempt":1}` object per record. Why: every
// byte of a record is written to the WAL and fsynced at each group commit, and the repeated keys
// were most of them (anchor saga: 55 -> 19 bytes per step_started; bench/log-micro.ts).
// A record whose shape is not exactly a known one (unexpected keys or types) is kept as its plain
// JSON object, so decoding always returns what was appended, field for field.
import type { ErrorInfo, Json, LogRecord, SagaStatus } from '../log.js';
import { SagaError } from '../errors.js';

const enum Code {
  StepStarted = 0,
  StepSucceeded = 1,
  StepFailed = 2,
  CompensationStarted = 3,
  CompensationSucceeded = 4,
  CompensationFailed = 5,
  Status = 6,
}

type Tuple = Array<Json | undefined>;

/** True when `r` has no own enumerable key outside `allowed` (undefined values count as absent, as in JSON). */
function onlyKeys(r: object, allowed: readonly string[]): boolean {
  for (const k in r) {
    if (!allowed.includes(k) && (r as Record<string, unknown>)[k] !== undefined) return false;
  }
  return true;
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const optNum = (v: unknown): boolean => v === undefined || isNum(v);

function isErrorInfo(e: unknown): e is ErrorInfo {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return false;
  const o = e as Record<string, unknown>;
  return (
    isStr(o.code) && isStr(o.message) && (o.retryable === undefined || isBool(o.retryable)) && onlyKeys(o, ['code', 'message', 'retryable'])
  );
}

/** The tuple form of a record, or undefined when its shape is not exactly a known one. */
function toTuple(r: LogRecord): Tuple | undefined {
  switch (r.type) {
    case 'step_started':
      if (!isStr(r.step) || !isNum(r.attempt) || !optNum(r.since) || !onlyKeys(r, ['type', 'step', 'attempt', 'since'])) return undefined;
      return r.since === undefined ? [Code.StepStarted, r.step, r.attempt] : [Code.StepStarted, r.step, r.attempt, r.since];
    case 'step_succeeded':
      if (!isStr(r.step) || r.output === undefined || !onlyKeys(r, ['type', 'step', 'output'])) return undefined;
      return [Code.StepSucceeded, r.step, r.output];
    case 'step_failed':
      if (!isStr(r.step) || !isNum(r.attempt) || !isErrorInfo(r.error) || !isBool(r.willRetry) || !optNum(r.retryInMs)) return undefined;
      if (!onlyKeys(r, ['type', 'step', 'attempt', 'error', 'willRetry', 'retryInMs'])) return undefined;
      return r.retryInMs === undefined
        ? [Code.StepFailed, r.step, r.attempt, r.error as unknown as Json, r.willRetry]
        : [Code.StepFailed, r.step, r.attempt, r.error as unknown as Json, r.willRetry, r.retryInMs];
    case 'compensation_started':
      if (!isStr(r.step) || !isNum(r.attempt) || !onlyKeys(r, ['type', 'step', 'attempt'])) return undefined;
      return [Code.CompensationStarted, r.step, r.attempt];
    case 'compensation_succeeded':
      if (!isStr(r.step) || !onlyKeys(r, ['type', 'step'])) return undefined;
      return [Code.CompensationSucceeded, r.step];
    case 'compensation_failed':
      if (!isStr(r.step) || !isNum(r.attempt) || !isErrorInfo(r.error) || !isBool(r.willRetry)) return undefined;
      if (!onlyKeys(r, ['type', 'step', 'attempt', 'error', 'willRetry'])) return undefined;
      return [Code.CompensationFailed, r.step, r.attempt, r.error as unknown as Json, r.willRetry];
    case 'status':
      if (!isStr(r.status) || (r.reason !== undefined && !isErrorInfo(r.reason)) || !onlyKeys(r, ['type', 'status', 'reason']))
        return undefined;
      return r.reason === undefined ? [Code.Status, r.status] : [Code.Status, r.status, r.reason as unknown as Json];
    default:
      return undefined;
  }
}

/** One append's records as text; SAGA_INPUT_INVALID when a value is not JSON (BigInt, a cycle). */
export function encodeRecords(records: readonly LogRecord[], what: string): string {
  const out: Array<Tuple | LogRecord> = [];
  for (const r of records) out.push(toTuple(r) ?? r);
  try {
    return JSON.stringify(out);
  } catch (err) {
    throw new SagaError('SAGA_INPUT_INVALID', `${what} is not JSON-serializable`, { cause: err });
  }
}

/** The records of one stored append, as they were appended. */
export function decodeRecords(text: string): LogRecord[] {
  const items = JSON.parse(text) as Array<Tuple | LogRecord>;
  return items.map((item) => (Array.isArray(item) ? fromTuple(item) : item));
}

function fromTuple(t: Tuple): LogRecord {
  const step = t[1] as string;
  switch (t[0] as Code) {
    case Code.StepStarted:
      return t.length > 3
        ? { type: 'step_started', step, attempt: t[2] as number, since: t[3] as number }
        : { type: 'step_started', step, attempt: t[2] as number };
    case Code.StepSucceeded:
      return { type: 'step_succeeded', step, output: t[2] as Json };
    case Code.StepFailed: {
      const r = {
        type: 'step_failed',
        step,
        attempt: t[2] as number,
        error: t[3] as unknown as ErrorInfo,
        willRetry: t[4] as boolean,
      } as const;
      return t.length > 5 ? { ...r, retryInMs: t[5] as number } : r;
    }
    case Code.CompensationStarted:
      return { type: 'compensation_started', step, attempt: t[2] as number };
    case Code.CompensationSucceeded:
      return { type: 'compensation_succeeded', step };
    case Code.CompensationFailed:
      return {
        type: 'compensation_failed',
        step,
        attempt: t[2] as number,
        error: t[3] as unknown as ErrorInfo,
        willRetry: t[4] as boolean,
      };
    case Code.Status:
      return t.length > 2
        ? { type: 'status', status: t[1] as SagaStatus, reason: t[2] as unknown as ErrorInfo }
        : { type: 'status', status: t[1] as SagaStatus };
    default:
      throw new SagaError('LOG_FAILURE', `unknown record code ${String(t[0])} in the SQLite saga log`);
  }
}
