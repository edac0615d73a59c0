// The log at scale (issue 19). Listing: page 1 and page 100 of `list` (newest first, 50 a page,
// the cursor walk of `GET /v1/sagas` and the dashboard) with N sagas in the log. Retention: N ended sagas (copies of one real completed 4-step saga with all
// its records, ended_at spread over the past) are pruned the way workers do it (prune batches of
// BATCH, oldest ended first, from the sagas_ended index), then measured: wall time, deletes/s, and
// the size of the log's tables and indexes before, after the prune, and after VACUUM (space is
// reusable after a plain VACUUM; only VACUUM FULL gives it back to the file system).
// Usage: SAGA_LOG_URL=postgresql://... N=1000000 BATCH=500 npx tsx bench/prune-scale.ts
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../src/log/postgres/index.js';
import { SagaEngine } from '../src/saga/index.js';
import { anchorSaga } from './engine.js';

const url = process.env.SAGA_LOG_URL ?? process.env.APEX_TEST_DATABASE_URL ?? '';
if (!url) throw new Error('set SAGA_LOG_URL (or APEX_TEST_DATABASE_URL)');
const N = Number(process.env.N ?? 1_000_000);
const BATCH = Number(process.env.BATCH ?? 500);
const schema = `apex_saga_prune_${randomBytes(4).toString('hex')}`;
const s = `"${schema}"`;
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const log = await PostgresSagaLog.open({ connectionString: url, schema });
const saga = anchorSaga();
const engine = new SagaEngine({ log, heartbeatMs: 0 }).register(saga);
const model = await engine.execute(saga, { id: 'model' });
await engine.close();

const size = async (): Promise<{ sagasMB: number; recordsMB: number; rows: number }> => {
  const r = await admin.query<{ a: string; b: string; n: string }>(
    `SELECT pg_total_relation_size('${s}.sagas')::text AS a, pg_total_relation_size('${s}.saga_records')::text AS b,
            (SELECT count(*) FROM ${s}.sagas)::text AS n`,
  );
  const row = r.rows[0];
  return { sagasMB: Math.round(Number(row?.a) / 2 ** 20), recordsMB: Math.round(Number(row?.b) / 2 ** 20), rows: Number(row?.n) };
};

const t0 = Date.now();
const now = Date.now();
await admin.query(
  `INSERT INTO ${s}.sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, next_seq, meta, deadline_at, key, ended_at)
   SELECT 'p' || i, name, version, status, input, owner, fencing_token, NULL, $2::bigint - 86400000 * 8 - i, $2::bigint - 86400000 * 8 - i, next_seq, meta, deadline_at, 'doc' || i, $2::bigint - 86400000 * 8 - i
     FROM ${s}.sagas, generate_series(1, $1::int) i WHERE id = $3`,
  [N, now, model.sagaId],
);
await admin.query(
  `INSERT INTO ${s}.saga_records (saga_id, seq, type, record, at)
   SELECT 'p' || i, r.seq, r.type, r.record, r.at FROM ${s}.saga_records r, generate_series(1, $1::int) i WHERE r.saga_id = $2`,
  [N, model.sagaId],
);
await admin.query(`ANALYZE ${s}.sagas`);
await admin.query(`ANALYZE ${s}.saga_records`);
const seeded = await size();
const seedSeconds = (Date.now() - t0) / 1000;

// Listing, as the API pages it: 50 a page, newest first, following the cursor.
const pageMs: number[] = [];
let cursor: string | null = null;
for (let page = 1; page <= 100; page++) {
  const tp = performance.now();
  const res = await log.list({}, { limit: 50, order: 'desc', ...(cursor ? { cursor } : {}) });
  pageMs.push(performance.now() - tp);
  cursor = res.next;
  if (!cursor) break;
}
const tk = performance.now();
await log.list({ key: `doc${Math.floor(N / 2)}` }, { limit: 50 });
const keyMs = performance.now() - tk;
const listing = {
  page1Ms: Math.round((pageMs[0] ?? NaN) * 10) / 10,
  page100Ms: Math.round((pageMs[99] ?? NaN) * 10) / 10,
  byKeyMs: Math.round(keyMs * 10) / 10,
};

const t1 = Date.now();
let pruned = 0;
for (;;) {
  const n = await log.prune(now - 7 * 86400000, BATCH);
  pruned += n;
  if (n === 0) break;
}
const pruneSeconds = (Date.now() - t1) / 1000;
const afterPrune = await size();
await admin.query(`VACUUM ${s}.sagas`);
await admin.query(`VACUUM ${s}.saga_records`);
const afterVacuum = await size();
await log.close();
await admin.query(`DROP SCHEMA ${s} CASCADE`);
await admin.end();
console.log(
  JSON.stringify({
    n: N,
    batch: BATCH,
    seedSeconds,
    listing,
    pruned,
    pruneSeconds,
    prunedPerSec: Math.round(pruned / pruneSeconds),
    seeded,
    afterPrune,
    afterVacuum,
  }),
);
