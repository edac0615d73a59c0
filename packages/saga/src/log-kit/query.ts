// The operators' queries, backend-independent parts: checking a filter and a page request (bad
// input names the field and the limit, and reads nothing), opaque keyset cursors, and the
// record-level facts (retrying, failed steps) the memory log computes and the SQL logs index.
import { SagaError } from '../errors.js';
import type { LogFilter, LogPageOptions, LogRecord, SagaStatus } from '../log.js';
import { DEFAULT_PAGE, MAX_PAGE } from '../log.js';

const STATUSES: ReadonlySet<string> = new Set(['pending', 'running', 'compensating', 'completed', 'compensated', 'stuck']);
/** Longest text a filter field may carry (ids, names, codes, keys). */
export const MAX_FILTER_TEXT = 500;
/** Longest key a saga may be given at begin. */
export const MAX_KEY_LENGTH = 500;

function invalid(message: string): SagaError {
  return new SagaError('SAGA_QUERY_INVALID', message);
}

/** A filter with every field checked and statuses as a list (null: any). */
export interface CheckedFilter {
  statuses: SagaStatus[] | null;
  name: string | null;
  version: number | null;
  key: string | null;
  owner: string | null;
  reasonCode: string | null;
  retrying: boolean | null;
  failedStep: string | null;
  createdFrom: number | null;
  createdBefore: number | null;
}

function text(field: string, v: unknown): string | null {
  if (v === undefined) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_FILTER_TEXT) {
    throw invalid(`filter.${field} must be a string of 1 to ${MAX_FILTER_TEXT} characters`);
  }
  if (v.includes('\u0000')) throw invalid(`filter.${field} must not contain NUL`);
  return v;
}

function time(field: string, v: unknown): number | null {
  if (v === undefined) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`filter.${field} must be epoch milliseconds (a safe integer)`);
  return v;
}

export function checkFilter(filter: LogFilter = {}): CheckedFilter {
  let statuses: SagaStatus[] | null = null;
  if (filter.status !== undefined) {
    const list: readonly unknown[] = typeof filter.status === 'string' ? [filter.status] : filter.status;
    if (!Array.isArray(list) || list.length === 0 || list.some((s) => typeof s !== 'string' || !STATUSES.has(s))) {
      throw invalid(`filter.status must be one or more of ${[...STATUSES].join(', ')}`);
    }
    statuses = [...new Set(list as SagaStatus[])];
  }
  if (filter.version !== undefined && (!Number.isSafeInteger(filter.version) || filter.version < 0)) {
    throw invalid('filter.version must be a non-negative integer');
  }
  if (filter.retrying !== undefined && typeof filter.retrying !== 'boolean') throw invalid('filter.retrying must be a boolean');
  return {
    statuses,
    name: text('name', filter.name),
    version: filter.version ?? null,
    key: text('key', filter.key),
    owner: text('owner', filter.owner),
    reasonCode: text('reasonCode', filter.reasonCode),
    retrying: filter.retrying ?? null,
    failedStep: text('failedStep', filter.failedStep),
    createdFrom: time('createdFrom', filter.createdFrom),
    createdBefore: time('createdBefore', filter.createdBefore),
  };
}

export interface CheckedPage {
  limit: number;
  order: 'desc' | 'asc';
  /** The decoded cursor position, or null for the first page. */
  after: unknown[] | null;
}

/**
 * Checks a page request. `backend` tags cursors so a cursor of another log (or of the other
 * order) is refused rather than misread.
 */
export function checkPage(backend: string, page: LogPageOptions = {}): CheckedPage {
  const limit = page.limit ?? DEFAULT_PAGE;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) throw invalid(`page.limit must be an integer from 1 to ${MAX_PAGE}`);
  const order = page.order ?? 'desc';
  if (order !== 'desc' && order !== 'asc') throw invalid("page.order must be 'desc' or 'asc'");
  const after = page.cursor === undefined ? null : decodeCursor(backend, order, page.cursor);
  return { limit, order, after };
}

export function checkCap(cap: number): number {
  if (!Number.isSafeInteger(cap) || cap < 1 || cap > 10_000_000) throw invalid('cap must be an integer from 1 to 10,000,000');
  return cap;
}

export function encodeCursor(backend: string, order: 'desc' | 'asc', position: unknown[]): string {
  return Buffer.from(JSON.stringify({ b: backend, o: order, k: position }), 'utf8').toString('base64url');
}

function decodeCursor(backend: string, order: 'desc' | 'asc', cursor: string): unknown[] {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 1_000)
    throw invalid('page.cursor must be a cursor this log issued');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('page.cursor must be a cursor this log issued');
  }
  const c = v as { b?: unknown; o?: unknown; k?: unknown };
  if (typeof v !== 'object' || v === null || c.b !== backend || !Array.isArray(c.k))
    throw invalid(`page.cursor must be a cursor this (${backend}) log issued`);
  if (c.o !== order) throw invalid(`page.cursor was issued for order '${String(c.o)}', not '${order}'`);
  return c.k;
}

/** The cursor position's parts, checked: numbers must be safe integers, strings short. */
export function positionNumber(after: unknown[], i: number): number {
  const v = after[i];
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid('page.cursor is damaged');
  return v;
}

export function positionText(after: unknown[], i: number): string {
  const v = after[i];
  if (typeof v !== 'string' || v.length > 1_000) throw invalid('page.cursor is damaged');
  return v;
}

/** A saga key given at begin: checked before anything is written. */
export function checkKey(sagaId: string, key: string | undefined): string | null {
  if (key === undefined) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || key.includes('\u0000')) {
    throw new SagaError('SAGA_INPUT_INVALID', `saga ${sagaId}: key must be a string of 1 to ${MAX_KEY_LENGTH} characters without NUL`);
  }
  return key;
}

/**
 * In a step retry (LogFilter.retrying): the last record is a failed step attempt that will be
 * retried, or a step attempt after the first. The SQL logs test the same on the last record.
 */
export function isRetrying(status: SagaStatus, records: readonly LogRecord[]): boolean {
  if (status !== 'running') return false;
  const last = records[records.length - 1];
  if (last === undefined) return false;
  return (last.type === 'step_failed' && last.willRetry) || (last.type === 'step_started' && last.attempt > 1);
}

/** Steps (or compensations) that failed at least once in these records. */
export function failedSteps(records: readonly LogRecord[]): string[] {
  const out = new Set<string>();
  for (const r of records) if (r.type === 'step_failed' || r.type === 'compensation_failed') out.add(r.step);
  return [...out];
}
