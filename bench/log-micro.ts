// Log-only micro bench: the anchor saga's log traffic (begin + 5 appends of 1-2 records) without
// the engine, to separate the log's cost from the engine's. `node .bench-build/bench/log-micro.js`
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSagaLog } from '../src/log/sqlite/index.js';
import type { LogRecord } from '../src/saga/index.js';
import { runLoad } from './load.js';

const sync = (process.env.SYNC ?? 'FULL') as 'FULL' | 'NORMAL';
const log = new SqliteSagaLog(join(mkdtempSync(join(tmpdir(), 'apex-micro-')), 'log.db'), { synchronous: sync });
const STEPS = ['neo4j_write', 'postgres_write', 'qdrant_write', 'redis_write'];
let n = 0;
const row = await runLoad(
  `log-micro sqlite ${sync}`,
  async () => {
    const sagaId = `m-${String(n++).padStart(9, '0')}`;
    const b = await log.begin({ sagaId, name: 'micro', version: 1, input: { id: sagaId }, status: 'running', owner: 'o', leaseMs: 30_000 });
    if (!b.created) throw new Error('dup');
    const lease = b.lease;
    let seq = 0;
    let prev: LogRecord | undefined;
    for (const step of STEPS) {
      const recs: LogRecord[] = prev ? [prev, { type: 'step_started', step, attempt: 1 }] : [{ type: 'step_started', step, attempt: 1 }];
      await log.append({ sagaId, lease, firstSeq: seq, records: recs });
      seq += recs.length;
      prev = { type: 'step_succeeded', step, output: null };
    }
    await log.append({ sagaId, lease, firstSeq: seq, records: [prev as LogRecord, { type: 'status', status: 'completed' }] });
  },
  Number(process.env.N ?? 4000),
  Number(process.env.CONC ?? 64),
);
console.log(JSON.stringify(row));
await log.close();
