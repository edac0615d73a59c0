// The claim alone against the backlog (issue 19): seeds N pending sagas (generate_series, VACUUM
// ANALYZE), then one log claims 16 at a time, 300 times (pending -> running under a long lease, so
// each claim walks past the rows the earlier ones took). Prints claim p50/p99 per backlog: with the
// partial indexes it should not grow with N. Usage: SAGA_LOG_URL=... BACKLOGS=5000,1000000 npx tsx bench/claim-cost.ts
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../src/log/postgres/index.js';

const url = process.env.SAGA_LOG_URL ?? '';
const backlogs = (process.env.BACKLOGS ?? '5000,1000000').split(',').map(Number);
const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? NaN;

for (const n of backlogs) {
  const schema = `apex_saga_claim_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const log = await PostgresSagaLog.open({ connectionString: url, schema });
  const s = `"${schema}"`;
  const t0 = Date.now();
  await admin.query(
    `INSERT INTO ${s}.sagas (id, name, version, status, input, fencing_token, created_at, updated_at, next_seq)
    SELECT 'p' || lpad(i::text, 8, '0'), 'noop', 1, 'pending', '{"id":"x"}', 0, i, i, 0 FROM generate_series(1, $1::int) i`,
    [n],
  );
  await admin.query(`VACUUM ANALYZE ${s}.sagas`);
  const seeded = Date.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const c0 = performance.now();
    await log.claim({ owner: 'bench', leaseMs: 600_000, limit: 16, includePending: true, definitions: [{ name: 'noop', version: 1 }] });
    times.push(performance.now() - c0);
  }
  console.log(
    JSON.stringify({
      pending: n,
      seedMs: seeded,
      claims: times.length,
      limit: 16,
      p50ms: Number(pct(times, 50).toFixed(2)),
      p99ms: Number(pct(times, 99).toFixed(2)),
    }),
  );
  await log.close();
  await admin.query(`DROP SCHEMA ${s} CASCADE`);
  await admin.end();
}
