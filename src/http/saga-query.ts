// GET /v1/sagas and bulk retry's selection: the API's filters turned into one query on the saga
// log's operators' interface (SagaLogQueries.list), which answers them from its indexes with
// keyset pages. Nothing is filtered here, so a filter that matches only old sagas still fills the
// first page. Records are loaded only for the sagas on the page (the row's attempts and steps).
import type { LogFilter, SagaLogBackend, SagaStatus, StoredSaga } from '../saga/index.js';
import { SagaError } from '../saga/index.js';
import { HttpProblem } from './problem.js';
import { docIdOf, recordFacts, summaryView, type SagaSummaryView } from './saga-view.js';

export interface SagaQuery {
  status?: SagaStatus | readonly SagaStatus[];
  name?: string;
  version?: number;
  stuck?: boolean;
  retrying?: boolean;
  failedStep?: string;
  docId?: string;
  reasonCode?: string;
  owner?: string;
  since?: string;
  until?: string;
  order?: 'desc' | 'asc';
  limit: number;
  cursor?: string;
}

export interface SagaPage {
  sagas: SagaSummaryView[];
  stored: StoredSaga[];
  nextCursor: string | null;
}

/** Totals stop here ("10,000+"): counting further would read every match of a large log. */
export const TOTAL_CAP = 10_000;

const ALL: readonly SagaStatus[] = ['pending', 'running', 'compensating', 'completed', 'compensated', 'stuck'];

export function parseTime(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms))
    throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', `${name}: expected an ISO 8601 date-time or epoch milliseconds`, {
      parameter: name,
    });
  return ms;
}

/** The log filter the query asks for; contradictions are bad input (400), not an empty page. */
export function logFilterOf(q: Omit<SagaQuery, 'limit' | 'cursor' | 'order'>): LogFilter {
  const asked = q.status === undefined ? undefined : typeof q.status === 'string' ? [q.status] : [...q.status];
  let statuses = asked;
  if (q.stuck === true) {
    if (asked !== undefined && !asked.includes('stuck'))
      throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', `stuck=true contradicts status=${asked.join(',')}`, { parameter: 'stuck' });
    statuses = ['stuck'];
  } else if (q.stuck === false) {
    statuses = (asked ?? ALL).filter((s) => s !== 'stuck');
    if (statuses.length === 0)
      throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', 'stuck=false contradicts status=stuck', { parameter: 'stuck' });
  }
  const createdFrom = parseTime('since', q.since);
  const createdBefore = parseTime('until', q.until);
  return {
    ...(statuses ? { status: statuses } : {}),
    ...(q.name !== undefined ? { name: q.name } : {}),
    ...(q.version !== undefined ? { version: q.version } : {}),
    ...(q.retrying !== undefined ? { retrying: q.retrying } : {}),
    ...(q.failedStep !== undefined ? { failedStep: q.failedStep } : {}),
    ...(q.docId !== undefined ? { key: q.docId } : {}),
    ...(q.reasonCode !== undefined ? { reasonCode: q.reasonCode } : {}),
    ...(q.owner !== undefined ? { owner: q.owner } : {}),
    ...(createdFrom !== undefined ? { createdFrom } : {}),
    ...(createdBefore !== undefined ? { createdBefore } : {}),
  };
}

/** The log's bad-query errors (a foreign or damaged cursor) as 400 naming the parameter. */
async function asked<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof SagaError && err.code === 'SAGA_QUERY_INVALID') {
      const parameter = /cursor/.test(err.message) ? 'cursor' : 'query';
      throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', `${parameter}: ${err.message}`, { parameter });
    }
    throw err;
  }
}

export async function querySagas(log: SagaLogBackend, q: SagaQuery): Promise<SagaPage> {
  const filter = logFilterOf(q);
  const page = await asked(
    log.list(filter, { limit: q.limit, ...(q.cursor !== undefined ? { cursor: q.cursor } : {}), ...(q.order ? { order: q.order } : {}) }),
  );
  const sagas: SagaSummaryView[] = [];
  const stored: StoredSaga[] = [];
  // One page's records (at most `limit` loads): the row shows attempts and failed steps.
  const loaded = await Promise.all(page.sagas.map((s) => log.load(s.sagaId)));
  for (const full of loaded) {
    if (!full) continue; // pruned meanwhile
    sagas.push(summaryView(full, recordFacts(full.status, full.records), full.key ?? docIdOf(full.input)));
    stored.push(full);
  }
  return { sagas, stored, nextCursor: page.next };
}

/** Matches of the query's filter, counted up to TOTAL_CAP. */
export async function totalOf(
  log: SagaLogBackend,
  q: Omit<SagaQuery, 'limit' | 'cursor' | 'order'>,
): Promise<{ total: number; totalCapped: boolean }> {
  const n = await asked(log.countUpTo(logFilterOf(q), TOTAL_CAP));
  return { total: n.count, totalCapped: n.capped };
}
