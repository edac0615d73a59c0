// Backlog drain (issue 19): W workers x 16 drain 5,000 no-op 4-step sagas submitted first, with
// B more pending behind them (seeded by SQL copies of a submitted saga, then ANALYZE). Reports
// sagas/s and claim p50/p99. NOTE: the W workers are W engines + WorkerLoops with their own log
// connections in ONE Node process (not W processes): on this 2-core machine the numbers show the
// claim's cost against the backlog, not a fleet's CPU scaling.
// Usage: SAGA_LOG_URL=postgresql://... BACKLOGS=5000,200000 WORKERS=2 [NOTIFY=all] npx tsx bench/fleet-drain.ts
// NOTIFY=all puts back the old trigger (a NOTIFY on every status change) for comparison.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../src/log/postgres/index.js';
import { SagaEngine } from '../src/saga/index.js';
import { WorkerLoop } from '../src/fleet/worker-loop.js';
import { anchorSaga } from './engine.js';
import { timeClaims } from './claim-timer.js';

const url = process.env.SAGA_LOG_URL ?? '';
const backlogs = (process.env.BACKLOGS ?? '5000,200000').split(',').map(Number);
const workers = Number(process.env.WORKERS ?? 2);
const DRAIN = Number(process.env.DRAIN ?? 5_000);
const saga = anchorSaga();

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

async function run(backlog: number): Promise<void> {
  const schema = `apex_saga_drain_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const submitLog = await PostgresSagaLog.open({ connectionString: url, schema });
  const submitter = new SagaEngine({ log: submitLog, heartbeatMs: 0 });
  submitter.register(saga);
  await Promise.all(Array.from({ length: DRAIN }, (_, i) => submitter.submit(saga, { id: `d${i}` })));
  await submitter.close();
  await submitLog.close();
  const s = `"${schema}"`;
  await admin.query(
    `INSERT INTO ${s}.sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, next_seq, meta, deadline_at)
    SELECT 'b' || i, name, version, status, input, owner, fencing_token, lease_expires_at, created_at + 100000000 + i, updated_at, next_seq, meta, deadline_at
    FROM ${s}.sagas, generate_series(1, $1::int) i WHERE id = (SELECT min(id) FROM ${s}.sagas)`,
    [backlog],
  );
  // VACUUM=1: a backlog that has sat for a while (vacuumed); else autovacuum of the bulk insert
  // runs during the drain.
  await admin.query(process.env.VACUUM === '1' ? `VACUUM ANALYZE ${s}.sagas` : `ANALYZE ${s}.sagas`);
  if (process.env.NOTIFY === 'all') {
    // The trigger before migration 4: a NOTIFY on every status change (for the with/without row).
    await admin.query(`CREATE OR REPLACE FUNCTION ${s}.notify_saga_change() RETURNS trigger LANGUAGE plpgsql AS $f$
      BEGIN PERFORM pg_notify('${schema}_saga_change', NEW.id); RETURN NULL; END $f$`);
  }
  const claims: number[] = [];
  const logs = await Promise.all(Array.from({ length: workers }, () => PostgresSagaLog.open({ connectionString: url, schema })));
  const loops = logs.map((log) => {
    timeClaims(log, claims);
    const engine = new SagaEngine({ log, heartbeatMs: 0 });
    engine.register(saga);
    return new WorkerLoop({ engine, concurrency: 16, warn: () => undefined });
  });
  const t0 = performance.now();
  const running = loops.map((l) => l.start());
  for (;;) {
    const r = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.sagas WHERE status = 'completed'`);
    if (Number(r.rows[0]?.n) >= DRAIN) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  const secs = (performance.now() - t0) / 1000;
  await Promise.all(loops.map((l) => l.stop({ graceMs: 1_000 })));
  await Promise.all(running);
  await Promise.all(logs.map((l) => l.close()));
  console.log(
    JSON.stringify({
      notify: process.env.NOTIFY === 'all' ? 'every change' : 'waiters only',
      workers,
      concurrency: 16,
      drained: DRAIN,
      backlog,
      seconds: Number(secs.toFixed(2)),
      sagasPerSec: Math.round(DRAIN / secs),
      claims: claims.length,
      claimP50ms: Number(pct(claims, 50).toFixed(2)),
      claimP99ms: Number(pct(claims, 99).toFixed(2)),
    }),
  );
  await admin.query(`DROP SCHEMA ${s} CASCADE`);
  await admin.end();
}

for (const b of backlogs) await run(b);
