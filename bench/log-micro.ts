// Micro-bench of a SagaLog backend under the engine's write pattern: per saga one begin and five
// appends of two records (a step's outcome + the next step_started), CONC sagas in flight.
// Usage: LOG=/tmp/x.db N=20000 CONC=64 node --import tsx bench/log-micro.ts   (LOG=memory|path|postgres URL)
import { rmSync } from 'node:fs';
import { openSagaLog } from '../src/log/open.js';
import type { LogRecord } from '../src/saga/log.js';

const target = process.env.LOG ?? '/tmp/apex-log-micro.db';
const n = Number(process.env.N ?? 20000);
const conc = Number(process.env.CONC ?? 64);
if (!target.includes('://') && target !== 'memory') {
  for (const suffix of ['', '-wal', '-shm']) rmSync(target + suffix, { force: true });
}
const log = await openSagaLog(target);
const steps = ['postgres_pending', 'neo4j_write', 'qdrant_write', 'postgres_commit', 'redis_write'];
const run = `${process.pid}-${Date.now()}`;

async function saga(id: string): Promise<void> {
  const begun = await log.begin({ sagaId: id, name: 'ingest', version: 1, input: { doc: id }, status: 'running', owner: 'bench', leaseMs: 30_000 });
  if (!begun.created) throw new Error('duplicate saga id');
  let seq = 0;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as string;
    const records: LogRecord[] =
      i === 0
        ? [{ type: 'step_started', step, attempt: 1 }, { type: 'step_started', step: `${step}:b`, attempt: 1 }]
        : [{ type: 'step_succeeded', step: steps[i - 1] as string, output: { ok: true } }, { type: 'step_started', step, attempt: 1 }];
    await log.append({ sagaId: id, lease: begun.lease, firstSeq: seq, records });
    seq += records.length;
  }
}

let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: conc }, async () => {
    while (next < n) await saga(`${run}-${next++}`);
  }),
);
const seconds = (performance.now() - t0) / 1000;
console.log(JSON.stringify({ log: log.kind, n, conc, sagas_per_s: Math.round(n / seconds), appends_per_s: Math.round((n * 6) / seconds) }));
await log.close();
