// The operators' queries on the SQLite log (SagaLogQueries): one statement per call, built from the
// checked filter with every value bound. Pages are keyset pages on `rid` (creation order), which
// every secondary index ends with, so a filter's index yields rows already in page order
// (sagas_status, sagas_key, sagas_reason_code; saga_failed_steps for a failed step).
import type Database from 'better-sqlite3';
import type { LogCount, LogFilter, LogPage, LogPageOptions, SagaEntry } from '../../saga/index.js';
import { checkCap, checkFilter, checkPage, encodeCursor, positionNumber, type CheckedFilter } from '@apex-memory/saga/log-kit';
import { SUMMARY_COLUMNS, toSummary, type SummaryRow } from './sql.js';

// The last append's last record (record-codec.ts tuples; a plain object when its shape was unusual):
// a failed step attempt that will be retried, or a step attempt after the first.
const LAST = "json_extract(lr.records, '$[#-1]')";
const RETRYING = `(s.status = 'running' AND EXISTS (SELECT 1 FROM saga_records lr
    WHERE lr.saga_rid = s.rid AND lr.first_seq = (SELECT max(first_seq) FROM saga_records WHERE saga_rid = s.rid)
      AND ((json_extract(${LAST}, '$[0]') = 2 AND json_extract(${LAST}, '$[4]') = 1)
        OR (json_extract(${LAST}, '$[0]') = 0 AND json_extract(${LAST}, '$[2]') > 1)
        OR (json_extract(${LAST}, '$.type') = 'step_failed' AND json_extract(${LAST}, '$.willRetry') = 1)
        OR (json_extract(${LAST}, '$.type') = 'step_started' AND json_extract(${LAST}, '$.attempt') > 1))))`;

function where(f: CheckedFilter, values: unknown[]): string[] {
  const c: string[] = [];
  const add = (v: unknown): string => {
    values.push(v);
    return '?';
  };
  if (f.statuses !== null) c.push(`s.status IN (${f.statuses.map(add).join(', ')})`);
  if (f.name !== null) c.push(`s.name = ${add(f.name)}`);
  if (f.version !== null) c.push(`s.version = ${add(f.version)}`);
  if (f.key !== null) c.push(`s.key IS NOT NULL AND s.key = ${add(f.key)}`);
  if (f.owner !== null) c.push(`s.owner = ${add(f.owner)}`);
  if (f.reasonCode !== null) c.push(`s.reason IS NOT NULL AND json_extract(s.reason, '$.code') = ${add(f.reasonCode)}`);
  if (f.retrying !== null) c.push(f.retrying ? RETRYING : `NOT ${RETRYING}`);
  if (f.failedStep !== null) c.push(`s.rid IN (SELECT saga_rid FROM saga_failed_steps WHERE step = ${add(f.failedStep)})`);
  if (f.createdFrom !== null) c.push(`s.created_at >= ${add(f.createdFrom)}`);
  if (f.createdBefore !== null) c.push(`s.created_at < ${add(f.createdBefore)}`);
  return c;
}

/** SUMMARY_COLUMNS, then key, ended_at, the time of the first record, and rid (the page cursor). */
type EntryRow = [...SummaryRow, string | null, number | null, number | null, number];

export class SqliteQueries {
  /** Statements by text: a filter combination is parsed once per connection. Bounded by the combinations. */
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  list(filter: LogFilter | undefined, page: LogPageOptions | undefined): LogPage {
    const f = checkFilter(filter);
    const p = checkPage('sqlite', page);
    const values: unknown[] = [];
    const c = where(f, values);
    if (p.after !== null) {
      c.push(`s.rid ${p.order === 'desc' ? '<' : '>'} ?`);
      values.push(positionNumber(p.after, 0));
    }
    values.push(p.limit + 1);
    const cols = SUMMARY_COLUMNS.split(', ')
      .map((col) => `s.${col}`)
      .join(', ');
    const text = `SELECT ${cols}, s.key, s.ended_at, (SELECT at FROM saga_records r0 WHERE r0.saga_rid = s.rid AND r0.first_seq = 0), s.rid
      FROM sagas s ${c.length > 0 ? `WHERE ${c.join(' AND ')}` : ''} ORDER BY s.rid ${p.order === 'desc' ? 'DESC' : 'ASC'} LIMIT ?`;
    const rows = this.statement(text, true).all(...values) as EntryRow[];
    const sagas = rows.slice(0, p.limit).map(toEntry);
    const last = rows[p.limit - 1];
    const next = rows.length > p.limit && last !== undefined ? encodeCursor('sqlite', p.order, [last[13]]) : null;
    return { sagas, next };
  }

  count(filter: LogFilter | undefined): number {
    const values: unknown[] = [];
    const c = where(checkFilter(filter), values);
    return this.statement(`SELECT count(*) FROM sagas s ${c.length > 0 ? `WHERE ${c.join(' AND ')}` : ''}`, false)
      .pluck()
      .get(...values) as number;
  }

  /** Stops at cap + 1 matches: "10,000+" reads 10,001 index entries, not the whole log. */
  countUpTo(filter: LogFilter, cap: number): LogCount {
    const values: unknown[] = [];
    const c = where(checkFilter(filter), values);
    values.push(checkCap(cap) + 1);
    const text = `SELECT count(*) FROM (SELECT 1 FROM sagas s ${c.length > 0 ? `WHERE ${c.join(' AND ')}` : ''} LIMIT ?)`;
    const n = this.statement(text, false)
      .pluck()
      .get(...values) as number;
    return n > cap ? { count: cap, capped: true } : { count: n, capped: false };
  }

  private statement(text: string, raw: boolean): Database.Statement {
    const k = `${raw ? 'r' : 'p'}:${text}`;
    let st = this.cache.get(k);
    if (st === undefined) {
      st = this.db.prepare(text);
      if (raw) st.raw();
      if (this.cache.size >= 256) this.cache.clear();
      this.cache.set(k, st);
    }
    return st;
  }
}

function toEntry(row: EntryRow): SagaEntry {
  return { ...toSummary(row), key: row[10], endedAt: row[11], startedAt: row[12] };
}
