// WAL written per saga on the PostgreSQL saga log (issue 19's sizing: what a primary must flush
// and ship to replicas per saga). Runs N no-op 4-step sagas (the anchor workload) through
// engine.execute at concurrency C in a fresh schema and reads pg_current_wal_insert_lsn() before
// and after, so the number includes the log's tables, indexes and commits, and nothing of the
// stores. WITH_OLD_INDEX=1 creates migration 4's sagas_ended_updated again (dropped by migration 6)
// to show what it cost. Nothing else may write to that server during the run (it counts all WAL).
// Usage: SAGA_LOG_URL=postgresql://... N=2000 C=16 [WITH_OLD_INDEX=1] npx tsx bench/wal-per-saga.ts
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../src/log/postgres/index.js';
import { SagaEngine } from '../src/saga/index.js';
import { anchorSaga } from './engine.js';

const url = process.env.SAGA_LOG_URL ?? process.env.APEX_TEST_DATABASE_URL ?? '';
if (!url) throw new Error('set SAGA_LOG_URL (or APEX_TEST_DATABASE_URL)');
const N = Number(process.env.N ?? 2_000);
const C = Number(process.env.C ?? 16);
const withOldIndex = process.env.WITH_OLD_INDEX === '1';

const schema = `apex_saga_wal_${randomBytes(4).toString('hex')}`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const log = await PostgresSagaLog.open({ connectionString: url, schema });
if (withOldIndex) {
  await admin.query(`CREATE INDEX sagas_ended_updated ON "${schema}".sagas (updated_at) WHERE status IN ('completed', 'compensated')`);
}
const saga = anchorSaga();
const engine = new SagaEngine({ log, heartbeatMs: 0 }).register(saga);
const lsn = async (): Promise<bigint> => {
  const r = await admin.query<{ b: string }>(`SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::text AS b`);
  return BigInt(r.rows[0]?.b ?? '0');
};
const before = await lsn();
const t0 = Date.now();
let next = 0;
await Promise.all(
  Array.from({ length: C }, async () => {
    for (let i = next++; i < N; i = next++) await engine.execute(saga, { id: `w${i}` });
  }),
);
const ms = Date.now() - t0;
const bytes = Number((await lsn()) - before);
const hot = await admin.query<{ upd: string; hot: string }>(
  `SELECT n_tup_upd::text AS upd, n_tup_hot_upd::text AS hot FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'sagas'`,
  [schema],
);
await engine.close();
await log.close();
await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
await admin.end();
const row = {
  n: N,
  concurrency: C,
  oldIndex: withOldIndex,
  walBytesPerSaga: Math.round(bytes / N),
  sagasPerSecond: Math.round((N / ms) * 1000),
  // pg_stat counters are flushed asynchronously: read them as a rough share, not an exact count.
  sagaRowUpdates: Number(hot.rows[0]?.upd ?? 0),
  hotShare: Number(hot.rows[0]?.upd ?? 0) > 0 ? Number(hot.rows[0]?.hot ?? 0) / Number(hot.rows[0]?.upd ?? 1) : null,
};
console.log(JSON.stringify(row));
