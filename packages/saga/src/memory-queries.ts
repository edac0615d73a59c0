// The memory log's operators' queries (SagaLogQueries): a scan of its sagas with the same filter
// semantics the SQL logs answer from their indexes (log-kit/query.ts checks the filter and page).
// Pages are keyset pages on creation order (`seq`), newest first by default.
import type { ErrorInfo, LogCount, LogFilter, LogPage, LogPageOptions, LogRecord, SagaEntry, SagaStatus } from './log.js';
import { checkFilter, checkPage, encodeCursor, failedSteps, isRetrying, positionNumber, type CheckedFilter } from './log-kit/query.js';

/** What the queries read of a memory saga. */
export interface MemoryRow {
  seq: number;
  status: SagaStatus;
  name: string;
  version: number;
  key: string | null;
  owner: string | null;
  reason: ErrorInfo | null;
  createdAt: number;
  records: string[];
}

function matches(saga: MemoryRow, f: CheckedFilter): boolean {
  if (f.statuses !== null && !f.statuses.includes(saga.status)) return false;
  if (f.name !== null && saga.name !== f.name) return false;
  if (f.version !== null && saga.version !== f.version) return false;
  if (f.key !== null && saga.key !== f.key) return false;
  if (f.owner !== null && saga.owner !== f.owner) return false;
  if (f.reasonCode !== null && saga.reason?.code !== f.reasonCode) return false;
  if (f.createdFrom !== null && saga.createdAt < f.createdFrom) return false;
  if (f.createdBefore !== null && saga.createdAt >= f.createdBefore) return false;
  if (f.retrying !== null || f.failedStep !== null) {
    const records = saga.records.map((t) => JSON.parse(t) as LogRecord);
    if (f.retrying !== null && isRetrying(saga.status, records) !== f.retrying) return false;
    if (f.failedStep !== null && !failedSteps(records).includes(f.failedStep)) return false;
  }
  return true;
}

export function listPage<R extends MemoryRow>(
  kind: string,
  sagas: Iterable<R>,
  filter: LogFilter,
  page: LogPageOptions,
  entry: (r: R) => SagaEntry,
): LogPage {
  const f = checkFilter(filter);
  const p = checkPage(kind, page);
  const desc = p.order === 'desc';
  const after = p.after === null ? null : positionNumber(p.after, 0);
  const sorted = [...sagas].sort((a, b) => (desc ? b.seq - a.seq : a.seq - b.seq));
  const out: SagaEntry[] = [];
  let last: R | undefined;
  for (const saga of sorted) {
    if (after !== null && (desc ? saga.seq >= after : saga.seq <= after)) continue;
    if (!matches(saga, f)) continue;
    if (out.length === p.limit) return { sagas: out, next: encodeCursor(kind, p.order, [last?.seq ?? 0]) };
    out.push(entry(saga));
    last = saga;
  }
  return { sagas: out, next: null };
}

export function countUpTo(sagas: Iterable<MemoryRow>, filter: LogFilter, cap: number): LogCount {
  const f = checkFilter(filter);
  let n = 0;
  for (const saga of sagas) {
    if (!matches(saga, f)) continue;
    if (++n > cap) return { count: cap, capped: true };
  }
  return { count: n, capped: false };
}
