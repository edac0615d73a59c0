// Memory: resident set size after 100k and after 1M no-op anchor sagas on one log, in one process
// at concurrency 64. Growth between the two should stay small (goal <= 10%): the engine must
// not keep anything per finished saga. RSS is read after a forced GC when node runs with
// --expose-gc (the bench runner passes it), so it measures what is kept, not garbage.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSagaLog } from '../src/log/open.js';
import { SagaEngine } from '../src/saga/index.js';
import { anchorSaga } from './engine.js';
import { freshDatabase, serviceUrls } from './servers-setup.js';

export interface MemoryRow {
  name: string;
  log: string;
  concurrency: number;
  checkpoints: Array<{ sagas: number; rss_mb: number; heap_mb: number; elapsed_s: number }>;
  growth: number;
}

function sample(sagas: number, t0: number): { sagas: number; rss_mb: number; heap_mb: number; elapsed_s: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return {
    sagas,
    rss_mb: +(m.rss / 2 ** 20).toFixed(1),
    heap_mb: +(m.heapUsed / 2 ** 20).toFixed(1),
    elapsed_s: +((performance.now() - t0) / 1000).toFixed(1),
  };
}

export async function benchMemory(opts: { log: 'sqlite' | 'postgres'; n: number; first: number; concurrency: number }): Promise<MemoryRow> {
  const db = opts.log === 'postgres' ? await freshDatabase(serviceUrls(), `apex_bench_mem_${process.pid}`) : undefined;
  const target = db ? db.url : join(mkdtempSync(join(tmpdir(), 'apex-bench-mem-')), 'saga-log.db');
  const log = await openSagaLog(target);
  const engine = new SagaEngine({ log, owner: 'bench-memory' });
  const def = anchorSaga();
  const checkpoints: MemoryRow['checkpoints'] = [];
  const t0 = performance.now();
  let next = 0;
  let done = 0;
  const marks = [opts.first, opts.n];
  try {
    const worker = async (): Promise<void> => {
      while (next < opts.n) {
        next++;
        await engine.execute(def, { id: String(next) });
        done++;
        if (done === marks[0]) {
          marks.shift();
          checkpoints.push(sample(done, t0));
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
  } finally {
    await engine.close();
    await log.close();
    await db?.drop();
  }
  const a = checkpoints[0]?.rss_mb ?? 0;
  const b = checkpoints[checkpoints.length - 1]?.rss_mb ?? 0;
  return {
    name: `memory ${opts.log}`,
    log: opts.log,
    concurrency: opts.concurrency,
    checkpoints,
    growth: a > 0 ? +((b - a) / a).toFixed(3) : 0,
  };
}
