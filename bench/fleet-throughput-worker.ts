// One worker process of bench/fleet-throughput.ts: a PostgreSQL saga log (direct or behind
// PgBouncer), an engine with the no-op 4-step anchor saga and a WorkerLoop of 16 slots. It prints
// READY once its log is open, starts claiming on a "GO" line on stdin, stops on "STOP", then prints
// one STATS line (its claim latencies) and exits. Separate processes, not loops in one process: the
// bench is about what a fleet costs the server (connections, claims), so each worker needs its own
// pools, as a real one has.
// Environment: FT_URL (the log URL the worker uses), FT_DIRECT_URL (SAGA_LOG_DIRECT_URL), FT_POOLER
// (transaction|none), FT_SCHEMA, FT_CONCURRENCY (default 16).
import { createInterface } from 'node:readline';
import { PostgresSagaLog } from '../src/log/postgres/index.js';
import { SagaEngine } from '../src/saga/index.js';
import { WorkerLoop } from '../src/fleet/worker-loop.js';
import { anchorSaga } from './engine.js';
import { timeClaims } from './claim-timer.js';

const env = process.env;
const pooler = env.FT_POOLER === 'transaction' ? 'transaction' : 'none';
const log = await PostgresSagaLog.open({
  connectionString: env.FT_URL ?? '',
  schema: env.FT_SCHEMA ?? 'apex_saga',
  applicationName: 'apex-bench-fleet-worker',
  connection: { pooler, ...(env.FT_DIRECT_URL ? { directConnectionString: env.FT_DIRECT_URL } : {}) },
});
const claims: number[] = [];
timeClaims(log, claims);
const engine = new SagaEngine({ log });
engine.register(anchorSaga());
const loop = new WorkerLoop({ engine, concurrency: Number(env.FT_CONCURRENCY ?? 16), warn: (l) => void process.stderr.write(`${l}\n`) });
process.stdout.write('READY\n');

let running: Promise<void> | undefined;
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'GO' && !running) running = loop.start();
  if (line === 'STOP') break;
}
await loop.stop({ graceMs: 1_000 });
await running;
await engine.close();
await log.close();
process.stdout.write(`STATS ${JSON.stringify({ claims })}\n`);
process.exit(0);
