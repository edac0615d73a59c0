// GET /v1/sagas and bulk retry: filters over the saga log with cursor pagination, newest first.
// The log's list() filters by status and name only, so the other filters (version, time range,
// retrying, failed step) run here over at most `scanLimit` sagas; the answer says when that limit
// was reached. Records are loaded only for the sagas on the page (and for candidates when a
// filter needs them).
import type { SagaLogBackend, SagaStatus, SagaSummary, StoredSaga } from '../saga/index.js';
import { HttpProblem } from './problem.js';
import { docIdOf, recordFacts, summaryView, type SagaSummaryView } from './saga-view.js';

export interface SagaQuery {
  status?: SagaStatus;
  name?: string;
  version?: number;
  stuck?: boolean;
  retrying?: boolean;
  failedStep?: string;
  since?: string;
  until?: string;
  limit: number;
  cursor?: string;
}

export interface SagaPage {
  sagas: SagaSummaryView[];
  stored: StoredSaga[];
  nextCursor: string | null;
  scanned: number;
  scanLimitReached: boolean;
}

/** Most sagas whose records one request reads (record filters read them for every candidate). */
const MAX_LOADS = 2_000;

export function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', `${name}: expected an ISO 8601 date-time or epoch milliseconds`, { parameter: name });
  return ms;
}

function encodeCursor(s: SagaSummary): string {
  return Buffer.from(JSON.stringify([s.createdAt, s.sagaId]), 'utf8').toString('base64url');
}

function decodeCursor(c: string): [number, string] {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'number' && typeof v[1] === 'string') return [v[0], v[1]];
  } catch {
    // fall through
  }
  throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', 'cursor: not a cursor this server issued', { parameter: 'cursor' });
}

/** Newest first: createdAt descending, then id descending. */
function newer(a: SagaSummary, b: SagaSummary): number {
  return b.createdAt - a.createdAt || (a.sagaId < b.sagaId ? 1 : a.sagaId > b.sagaId ? -1 : 0);
}

export async function querySagas(log: SagaLogBackend, q: SagaQuery, scanLimit: number): Promise<SagaPage> {
  if (q.stuck === true && q.status !== undefined && q.status !== 'stuck') {
    throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', `stuck=true contradicts status=${q.status}`, { parameter: 'stuck' });
  }
  const status = q.stuck === true ? 'stuck' : q.status;
  const since = parseTime('since', q.since);
  const until = parseTime('until', q.until);
  const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
  const all = await log.list({ ...(status ? { status } : {}), ...(q.name ? { name: q.name } : {}), ...(q.version !== undefined ? { version: q.version } : {}), limit: scanLimit });
  let rows = all.sort(newer);
  if (q.stuck === false) rows = rows.filter((s) => s.status !== 'stuck');
  if (after) rows = rows.filter((s) => s.createdAt < after[0] || (s.createdAt === after[0] && s.sagaId < after[1]));
  rows = rows.filter((s) => (q.version === undefined || s.version === q.version) && (since === undefined || s.createdAt >= since) && (until === undefined || s.createdAt < until));
  const needRecords = q.retrying !== undefined || q.failedStep !== undefined;
  const sagas: SagaSummaryView[] = [];
  const stored: StoredSaga[] = [];
  let last: SagaSummary | undefined;
  let more = false;
  let loads = 0;
  for (const s of rows) {
    if (sagas.length === q.limit && !needRecords) {
      more = true;
      break;
    }
    if (loads === MAX_LOADS) {
      // A record filter that matches rarely: stop here; the cursor resumes after the last one read.
      more = true;
      break;
    }
    loads++;
    const full = await log.load(s.sagaId);
    const prev = last;
    last = s;
    if (!full) continue; // pruned meanwhile
    const facts = recordFacts(full.records);
    if (q.retrying !== undefined && facts.retrying !== q.retrying) continue;
    if (q.failedStep !== undefined && !facts.failedSteps.includes(q.failedStep)) continue;
    if (sagas.length === q.limit) {
      more = true;
      last = prev;
      break;
    }
    sagas.push(summaryView(full, facts, docIdOf(full.input)));
    stored.push(full);
  }
  return { sagas, stored, nextCursor: more && last ? encodeCursor(last) : null, scanned: all.length, scanLimitReached: all.length >= scanLimit };
}
