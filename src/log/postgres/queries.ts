// The operators' queries on the PostgreSQL log (SagaLogQueries): one statement per call, built from
// the checked filter with every value bound as a parameter. Pages are keyset pages on
// (created_at, id), read from the sagas_created index (or, under a filter, from that filter's
// index: sagas_status_created, sagas_key, sagas_reason_code, saga_records_failed), so page 100
// costs what page 1 costs. docs/saga-log.md lists which filter reads which index.
import type { LogFilter, LogPageOptions, SagaEntry } from '../../saga/index.js';
import {
  checkCap,
  checkFilter,
  checkPage,
  encodeCursor,
  positionNumber,
  positionText,
  type CheckedFilter,
} from '@apex-memory/saga/log-kit';
import { SUMMARY_COLUMNS, toSummary, type SummaryRow } from './sql.js';

const FAILED_TYPES = "('step_failed', 'compensation_failed')";

/** Last record (seq = next_seq - 1) is a failed step attempt to be retried, or a step attempt after the first. */
function retryingSql(s: string): string {
  return `(g.status = 'running' AND EXISTS (SELECT 1 FROM ${s}.saga_records lr WHERE lr.saga_id = g.id AND lr.seq = g.next_seq - 1
      AND ((lr.type = 'step_failed' AND (lr.record->>'willRetry')::boolean) OR (lr.type = 'step_started' AND (lr.record->>'attempt')::int > 1))))`;
}

class Params {
  readonly values: unknown[] = [];
  add(v: unknown, type: string): string {
    this.values.push(v);
    return `$${this.values.length}::${type}`;
  }
}

function where(s: string, f: CheckedFilter, p: Params): string[] {
  const c: string[] = [];
  if (f.statuses !== null) {
    // One status as `=`: the (status, created_at, id) index then yields rows already in page order.
    c.push(f.statuses.length === 1 ? `g.status = ${p.add(f.statuses[0], 'text')}` : `g.status = ANY(${p.add(f.statuses, 'text[]')})`);
  }
  if (f.name !== null) c.push(`g.name = ${p.add(f.name, 'text')}`);
  if (f.version !== null) c.push(`g.version = ${p.add(f.version, 'int')}`);
  if (f.key !== null) c.push(`g.key IS NOT NULL AND g.key = ${p.add(f.key, 'text')}`);
  if (f.owner !== null) c.push(`g.owner = ${p.add(f.owner, 'text')}`);
  if (f.reasonCode !== null) c.push(`g.reason IS NOT NULL AND (g.reason->>'code') = ${p.add(f.reasonCode, 'text')}`);
  if (f.retrying !== null) c.push(f.retrying ? retryingSql(s) : `NOT ${retryingSql(s)}`);
  if (f.failedStep !== null) {
    c.push(
      `g.id IN (SELECT fr.saga_id FROM ${s}.saga_records fr WHERE fr.type IN ${FAILED_TYPES} AND (fr.record->>'step') = ${p.add(f.failedStep, 'text')})`,
    );
  }
  if (f.createdFrom !== null) c.push(`g.created_at >= ${p.add(f.createdFrom, 'bigint')}`);
  if (f.createdBefore !== null) c.push(`g.created_at < ${p.add(f.createdBefore, 'bigint')}`);
  return c;
}

export interface BuiltQuery {
  text: string;
  values: unknown[];
}

export function listQuery(
  s: string,
  filter: LogFilter | undefined,
  page: LogPageOptions | undefined,
): BuiltQuery & { limit: number; order: 'desc' | 'asc' } {
  const f = checkFilter(filter);
  const pg = checkPage('postgres', page);
  const p = new Params();
  const c = where(s, f, p);
  const cmp = pg.order === 'desc' ? '<' : '>';
  if (pg.after !== null) {
    c.push(`(g.created_at, g.id) ${cmp} (${p.add(positionNumber(pg.after, 0), 'bigint')}, ${p.add(positionText(pg.after, 1), 'text')})`);
  }
  const dir = pg.order === 'desc' ? 'DESC' : 'ASC';
  const cols = SUMMARY_COLUMNS.split(', ')
    .map((col) => `g.${col}`)
    .join(', ');
  // One row more than the page: it tells whether a next page exists, without a count.
  const text = `SELECT ${cols}, g.key, g.ended_at,
      (SELECT r0.at FROM ${s}.saga_records r0 WHERE r0.saga_id = g.id AND r0.seq = 0) AS started_at
    FROM ${s}.sagas g ${c.length > 0 ? `WHERE ${c.join(' AND ')}` : ''}
    ORDER BY g.created_at ${dir}, g.id ${dir} LIMIT ${p.add(pg.limit + 1, 'int')}`;
  return { text, values: p.values, limit: pg.limit, order: pg.order };
}

export function countQuery(s: string, filter: LogFilter | undefined, cap?: number): BuiltQuery {
  const f = checkFilter(filter);
  const p = new Params();
  const c = where(s, f, p);
  const w = c.length > 0 ? `WHERE ${c.join(' AND ')}` : '';
  if (cap === undefined) return { text: `SELECT count(*)::bigint AS n FROM ${s}.sagas g ${w}`, values: p.values };
  // Stops reading at cap + 1 matches: "10,000+" costs 10,001 index entries, not the whole log.
  const limit = p.add(checkCap(cap) + 1, 'int');
  return { text: `SELECT count(*)::bigint AS n FROM (SELECT 1 FROM ${s}.sagas g ${w} LIMIT ${limit}) t`, values: p.values };
}

export type EntryRow = SummaryRow & { key: string | null; ended_at: string | number | null; started_at: string | number | null };

export function toEntry(row: EntryRow): SagaEntry {
  return {
    ...toSummary(row),
    key: row.key,
    startedAt: row.started_at === null ? null : Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
  };
}

/** The page and its `next` cursor from `limit + 1` rows. */
export function toPage(rows: EntryRow[], limit: number, order: 'desc' | 'asc'): { sagas: SagaEntry[]; next: string | null } {
  const sagas = rows.slice(0, limit).map(toEntry);
  const last = sagas[sagas.length - 1];
  const next = rows.length > limit && last !== undefined ? encodeCursor('postgres', order, [last.createdAt, last.sagaId]) : null;
  return { sagas, next };
}
