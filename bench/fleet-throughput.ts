// Fleet throughput (issue 19): 1, 2, 4, 8 worker PROCESSES x 16 slots drain N no-op 4-step sagas
// from the PostgreSQL saga log, their log connections direct or through PgBouncer in transaction
// mode (APEX_PG_POOLER=transaction). The sagas are submitted first over the direct URL, the workers
// start and open their logs, then all start claiming at once; the clock runs from there until all N
// are completed. Reports sagas/s, claim p50/p99 (over all workers), and what the fleet costs the
// server: the most PostgreSQL backends of the bench's database seen at once during the drain
// (pg_stat_activity, sampled every 100 ms, the bench's own connection and backends there before the
// workers started excluded); through PgBouncer, the most client and server connections of its pool
// (SHOW POOLS on its admin console, when the user is in stats_users; scripts/services.sh sets
// that: these are the pooled run's server connections, idle ones of earlier runs included); and the CPU seconds the
// PostgreSQL server spent on the drain (its process tree, from /proc: bench/server-cpu.ts, when the
// server is the one scripts/services.sh started here), hence sagas per PostgreSQL CPU-second.
// Usage: SAGA_LOG_URL=postgresql://... PGBOUNCER_URL=postgresql://...(same database through PgBouncer)
//   WORKERS=1,2,4,8 MODES=direct,pgbouncer N=2000 ROUNDS=1 npx tsx bench/fleet-throughput.ts
// One JSON line per run; with ROUNDS>1 a median line per (mode, workers) at the end.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PostgresSagaLog } from '../src/log/postgres/index.js';
import { SagaEngine } from '../src/saga/index.js';
import { anchorSaga } from './engine.js';
import { sampleCpu, serverPids } from './server-cpu.js';

const direct = process.env.SAGA_LOG_URL ?? process.env.APEX_TEST_DATABASE_URL ?? '';
const bouncer = process.env.PGBOUNCER_URL ?? process.env.APEX_TEST_PGBOUNCER_URL ?? '';
const workerCounts = (process.env.WORKERS ?? '1,2,4,8').split(',').map(Number);
const modes = (process.env.MODES ?? 'direct,pgbouncer').split(',') as Array<'direct' | 'pgbouncer'>;
const N = Number(process.env.N ?? 2_000);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const CHILD = fileURLToPath(new URL('./fleet-throughput-worker.ts', import.meta.url));
if (!direct) throw new Error('SAGA_LOG_URL (or APEX_TEST_DATABASE_URL) is required');
if (modes.includes('pgbouncer') && !bouncer) throw new Error('PGBOUNCER_URL (or APEX_TEST_PGBOUNCER_URL) is required for MODES=pgbouncer');

interface Row {
  mode: string;
  workers: number;
  sagasPerSec: number;
  claimP50ms: number;
  claimP99ms: number;
  /** Most backends of the database at once during the drain, minus those there before the workers started. */
  serverBackendsMax: number;
  serverBackendsBaseline: number;
  bouncerClientsMax?: number;
  bouncerServersMax?: number;
  /** PostgreSQL CPU seconds during the drain, when its process is local. */
  pgCpuSeconds?: number;
  sagasPerPgCpuSecond?: number;
}

const BACKENDS = `SELECT count(*) AS n FROM pg_stat_activity
  WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`;

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

interface Child {
  proc: ChildProcess;
  lines: string[];
  waitFor(prefix: string): Promise<string>;
}

function spawnChild(env: Record<string, string>): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<{ prefix: string; resolve: (l: string) => void }> = [];
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      for (const w of waiters.filter((x) => line.startsWith(x.prefix))) w.resolve(line);
    }
  });
  const exited = new Promise<never>((_, reject) => proc.on('exit', (code) => reject(new Error(`bench worker exited with ${code}`))));
  exited.catch(() => undefined);
  return {
    proc,
    lines,
    waitFor: (prefix) =>
      Promise.race([
        new Promise<string>((resolve) => {
          const seen = lines.find((l) => l.startsWith(prefix));
          if (seen) resolve(seen);
          else waiters.push({ prefix, resolve });
        }),
        exited,
      ]),
  };
}

/** The bouncer's pool of this database and user: clients (active + waiting) and server connections. */
async function bouncerPool(admin: pg.Client | undefined, db: string): Promise<{ clients: number; servers: number } | undefined> {
  if (!admin) return undefined;
  const r = await admin.query<Record<string, string>>('SHOW POOLS');
  const row = r.rows.find((x) => x.database === db);
  if (!row) return { clients: 0, servers: 0 };
  const n = (k: string): number => Number(row[k] ?? 0);
  return {
    clients: n('cl_active') + n('cl_waiting'),
    servers: n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login'),
  };
}

async function openBouncerAdmin(): Promise<pg.Client | undefined> {
  if (!bouncer) return undefined;
  const u = new URL(bouncer);
  u.pathname = '/pgbouncer';
  const c = new pg.Client({ connectionString: u.toString() });
  try {
    await c.connect();
    await c.query('SHOW POOLS');
    return c;
  } catch (err) {
    console.error(`PgBouncer admin console not reachable (${(err as Error).message}): server-side counts only`);
    await c.end().catch(() => undefined);
    return undefined;
  }
}

async function run(mode: 'direct' | 'pgbouncer', workers: number, bouncerAdmin: pg.Client | undefined): Promise<Row> {
  const schema = `apex_saga_fleet_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: direct });
  await admin.connect();
  const db = new URL(direct).pathname.slice(1);
  const submitLog = await PostgresSagaLog.open({ connectionString: direct, schema });
  const submitter = new SagaEngine({ log: submitLog, heartbeatMs: 0 });
  const saga = anchorSaga();
  submitter.register(saga);
  for (let i = 0; i < N; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, N - i) }, (_, k) => submitter.submit(saga, { id: `f${i + k}` })));
  }
  await submitter.close();
  await submitLog.close();
  await admin.query(`ANALYZE "${schema}".sagas`);

  const env: Record<string, string> =
    mode === 'direct'
      ? { FT_URL: direct, FT_POOLER: 'none', FT_SCHEMA: schema }
      : { FT_URL: bouncer, FT_DIRECT_URL: direct, FT_POOLER: 'transaction', FT_SCHEMA: schema };
  // Backends already there before the workers (PgBouncer keeps idle server connections of earlier
  // runs for server_idle_timeout): subtracted, so a direct run counts its workers' connections only.
  const baseline = Number((await admin.query<{ n: string }>(BACKENDS)).rows[0]?.n ?? 0);
  const children = Array.from({ length: workers }, () => spawnChild(env));
  await Promise.all(children.map((c) => c.waitFor('READY')));

  const pgRoot = serverPids().postgres;
  const roots: Record<string, number> = pgRoot !== undefined ? { postgres: pgRoot } : {};
  const cpuBefore = sampleCpu(roots).postgres;
  let backendsMax = 0;
  let clientsMax = 0;
  let serversMax = 0;
  const t0 = performance.now();
  for (const c of children) c.proc.stdin?.write('GO\n');
  for (;;) {
    const [done, backends, pool] = await Promise.all([
      admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".sagas WHERE status = 'completed'`),
      admin.query<{ n: string }>(BACKENDS),
      bouncerPool(mode === 'pgbouncer' ? bouncerAdmin : undefined, db),
    ]);
    backendsMax = Math.max(backendsMax, Number(backends.rows[0]?.n ?? 0));
    if (pool) {
      clientsMax = Math.max(clientsMax, pool.clients);
      serversMax = Math.max(serversMax, pool.servers);
    }
    if (Number(done.rows[0]?.n) >= N) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const secs = (performance.now() - t0) / 1000;
  const cpuAfter = sampleCpu(roots).postgres;
  const pgCpu = cpuBefore !== undefined && cpuAfter !== undefined ? cpuAfter - cpuBefore : undefined;
  for (const c of children) c.proc.stdin?.write('STOP\n');
  const stats = await Promise.all(children.map((c) => c.waitFor('STATS ')));
  const claims = stats.flatMap((l) => (JSON.parse(l.slice(6)) as { claims: number[] }).claims);
  await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
  await admin.end();
  const row: Row = {
    mode,
    workers,
    sagasPerSec: Math.round(N / secs),
    claimP50ms: pct(claims, 50),
    claimP99ms: pct(claims, 99),
    serverBackendsMax: Math.max(0, backendsMax - baseline),
    serverBackendsBaseline: baseline,
    ...(mode === 'pgbouncer' && bouncerAdmin ? { bouncerClientsMax: clientsMax, bouncerServersMax: serversMax } : {}),
    ...(pgCpu !== undefined ? { pgCpuSeconds: Number(pgCpu.toFixed(2)), sagasPerPgCpuSecond: Math.round(N / Math.max(0.01, pgCpu)) } : {}),
  };
  console.log(JSON.stringify({ ...row, n: N, seconds: Number(secs.toFixed(2)), claims: claims.length }));
  return row;
}

const bouncerAdmin = modes.includes('pgbouncer') ? await openBouncerAdmin() : undefined;
const rows: Row[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of modes) for (const w of workerCounts) rows.push(await run(mode, w, bouncerAdmin));
}
await bouncerAdmin?.end();
if (ROUNDS > 1) {
  for (const mode of modes) {
    for (const w of workerCounts) {
      const mine = rows.filter((r) => r.mode === mode && r.workers === w);
      const med = (k: keyof Row): number =>
        pct(
          mine.map((r) => Number(r[k] ?? NaN)),
          50,
        );
      console.log(
        JSON.stringify({
          median: true,
          mode,
          workers: w,
          rates: mine.map((r) => r.sagasPerSec),
          sagasPerSec: med('sagasPerSec'),
          claimP50ms: med('claimP50ms'),
          claimP99ms: med('claimP99ms'),
          serverBackendsMax: med('serverBackendsMax'),
          sagasPerPgCpuSecond: med('sagasPerPgCpuSecond'),
          ...(mode === 'pgbouncer' && bouncerAdmin
            ? { bouncerClientsMax: med('bouncerClientsMax'), bouncerServersMax: med('bouncerServersMax') }
            : {}),
        }),
      );
    }
  }
}
