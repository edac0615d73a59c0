// The operators' queries on a log of more than 20,000 sagas, on the real PostgreSQL log and on a
// SQLite file: the newest come first, page 2 follows page 1 with no gap and no repeat, a filter
// that matches only the oldest sagas answers them on its first page, totals stop at their cap,
// and (PostgreSQL) the plans read an index, never the whole table. The sagas are inserted directly
// (one generate_series statement; one SQLite transaction) so the test stays well under 20 s.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { listQuery } from '../../src/log/postgres/queries.js';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import type { LogFilter, SagaLogBackend } from '../../src/saga/index.js';
import { testServices } from '../support/services.js';

const N = 20_500;
const BASE = 1_700_000_000_000;
const idOf = (i: number): string => `scale-${String(i).padStart(6, '0')}`;
// The three oldest sagas are the only ones some filters match: 0 and 2 stuck (reason FAR_CODE,
// owner old-worker), 1 running in a retry of step rare_step. All others completed.
const FAR: Array<[string, LogFilter, number[]]> = [
  ['key', { key: 'doc-2' }, [2]],
  ['reason code', { reasonCode: 'FAR_CODE' }, [2, 0]],
  ['owner', { owner: 'old-worker' }, [2, 0]],
  ['status', { status: ['stuck', 'running'] }, [2, 1, 0]],
  ['retrying', { retrying: true }, [1]],
  ['failed step', { failedStep: 'rare_step' }, [1]],
  ['time range', { createdBefore: BASE + 15 }, [1, 0]],
];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

function* nodes(n: PlanNode): Generator<PlanNode> {
  yield n;
  for (const c of n.Plans ?? []) yield* nodes(c);
}

async function checkQueries(log: SagaLogBackend): Promise<void> {
  const first = await log.list({}, { limit: 50 });
  assert.deepEqual(
    first.sagas.map((s) => s.sagaId),
    Array.from({ length: 50 }, (_, k) => idOf(N - 1 - k)),
    'the newest first',
  );
  assert.ok(first.next);
  const second = await log.list({}, { limit: 50, cursor: first.next });
  assert.deepEqual(
    second.sagas.map((s) => s.sagaId),
    Array.from({ length: 50 }, (_, k) => idOf(N - 51 - k)),
    'page 2 follows page 1',
  );
  for (const [what, filter, expected] of FAR) {
    const page = await log.list(filter, { limit: 50 });
    assert.deepEqual(
      page.sagas.map((s) => s.sagaId),
      expected.map(idOf),
      `${what}: the far matches on the first page`,
    );
    assert.equal(page.next, null, `${what}: nothing more`);
  }
  assert.deepEqual(await log.countUpTo({}, 10_000), { count: 10_000, capped: true });
  assert.deepEqual(await log.countUpTo({ status: 'completed' }, 10_000), { count: 10_000, capped: true });
  assert.deepEqual(await log.countUpTo({ status: 'stuck' }, 10_000), { count: 2, capped: false });
  assert.equal(await log.count(), N);
  // Every saga once, in 21 pages of 1,000, oldest first.
  const seen = new Set<string>();
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: Awaited<ReturnType<SagaLogBackend['list']>> = await log.list(
      {},
      { limit: 1_000, order: 'asc', ...(cursor !== null ? { cursor } : {}) },
    );
    for (const s of page.sagas) seen.add(s.sagaId);
    cursor = page.next;
    pages++;
  } while (cursor !== null);
  assert.equal(seen.size, N);
  assert.equal(pages, Math.ceil(N / 1_000));
  // Retention from the end-time index: the oldest ended first, never the stuck or running ones.
  assert.equal(await log.prune(BASE + 1_000, 10_000), 100 - 3, 'sagas 3..99 ended before the cut');
  assert.equal((await log.load(idOf(0)))?.status, 'stuck');
  assert.equal(await log.load(idOf(99)), undefined);
  assert.equal((await log.load(idOf(100)))?.status, 'completed');
}

describe("operators' queries on 20,500 sagas: PostgreSQL", () => {
  const url = testServices().databaseUrl;
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  const schema = `apex_saga_scale_${randomBytes(6).toString('hex')}`;
  after(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('newest first, keyset pages, far filters on page 1, capped totals, index plans', async () => {
    const t0 = performance.now();
    const log = await PostgresSagaLog.open({ connectionString: url, schema, poolSize: 2 });
    try {
      const s = `"${schema}"`;
      await admin.query(
        `INSERT INTO ${s}.sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, next_seq, key, ended_at, reason)
         SELECT 'scale-' || lpad(i::text, 6, '0'), 'ingest', 1,
                CASE WHEN i IN (0, 2) THEN 'stuck' WHEN i = 1 THEN 'running' ELSE 'completed' END, '{}'::json,
                CASE WHEN i IN (0, 2) THEN 'old-worker' ELSE 'w' END, 1, 0, $1::bigint + i * 10, $1::bigint + i * 10 + 5,
                CASE WHEN i = 1 THEN 2 ELSE 1 END, 'doc-' || i,
                CASE WHEN i < 3 THEN NULL ELSE $1::bigint + i * 10 + 5 END,
                CASE WHEN i IN (0, 2) THEN '{"code":"FAR_CODE","message":"m"}'::json END
         FROM generate_series(0, $2::int - 1) i`,
        [BASE, N],
      );
      await admin.query(
        `INSERT INTO ${s}.saga_records (saga_id, seq, type, record, at)
         SELECT id, 0, 'step_started', '{"type":"step_started","step":"s","attempt":1}'::json, created_at FROM ${s}.sagas
         UNION ALL SELECT 'scale-000001', 1, 'step_failed',
           '{"type":"step_failed","step":"rare_step","attempt":1,"error":{"code":"X","message":"m"},"willRetry":true}'::json, $1::bigint + 20`,
        [BASE],
      );
      await admin.query(`ANALYZE ${s}.sagas; ANALYZE ${s}.saga_records`);
      // The plans: a page and each far filter read an index, never the whole sagas table, and no
      // page sorts the whole log. Not owner (no index on purpose: claims change it, and an index
      // would make every claim a non-HOT update; docs/saga-log.md) nor retrying (running sagas
      // through the status index, then their last record).
      for (const filter of [{}, ...FAR.map(([, f]) => f).filter((f) => f.retrying === undefined && f.owner === undefined)]) {
        const q = listQuery(s, filter, { limit: 50 });
        const plan = (await admin.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${q.text}`, q.values))
          .rows[0]?.['QUERY PLAN'][0]?.Plan;
        assert.ok(plan);
        for (const node of nodes(plan)) {
          assert.ok(
            !(node['Node Type'] === 'Seq Scan' && node['Relation Name'] === 'sagas'),
            `no sequential scan of sagas for ${JSON.stringify(filter)}`,
          );
          assert.ok(!(node['Node Type'] === 'Sort' && node['Plan Rows'] > 1_000), `no sort of the log for ${JSON.stringify(filter)}`);
        }
      }
      await checkQueries(log);
    } finally {
      await log.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`postgres: 20,500 sagas seeded and queried in ${seconds.toFixed(1)} s`);
  });
});

describe("operators' queries on 20,500 sagas: SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-log-scale-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('newest first, keyset pages, far filters on page 1, capped totals', async () => {
    const t0 = performance.now();
    const file = join(dir, 'log.db');
    new SqliteSagaLog(file).close().catch(() => undefined); // creates the schema
    const db = new Database(file);
    const insSaga =
      db.prepare(`INSERT INTO sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, key, ended_at, reason)
      VALUES (?, 'ingest', 1, ?, '{}', ?, 1, 0, ?, ?, ?, ?, ?)`);
    const insRec = db.prepare('INSERT INTO saga_records (saga_rid, first_seq, n, records, at) VALUES (?, ?, 1, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < N; i++) {
        const stuck = i === 0 || i === 2;
        const status = stuck ? 'stuck' : i === 1 ? 'running' : 'completed';
        const created = BASE + i * 10;
        const rid = Number(
          insSaga.run(
            idOf(i),
            status,
            stuck ? 'old-worker' : 'w',
            created,
            created + 5,
            `doc-${i}`,
            i < 3 ? null : created + 5,
            stuck ? '{"code":"FAR_CODE","message":"m"}' : null,
          ).lastInsertRowid,
        );
        insRec.run(rid, 0, '[[0,"s",1]]', created);
        if (i === 1) {
          insRec.run(rid, 1, '[[2,"rare_step",1,{"code":"X","message":"m"},true]]', created + 10);
          db.prepare('INSERT INTO saga_failed_steps (step, saga_rid) VALUES (?, ?)').run('rare_step', rid);
        }
      }
    })();
    db.close();
    const log = new SqliteSagaLog(file);
    try {
      await checkQueries(log);
    } finally {
      await log.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`sqlite: 20,500 sagas seeded and queried in ${seconds.toFixed(1)} s`);
  });
});
