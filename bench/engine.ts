// The anchor workload on this engine: a saga of 4 no-op steps (neo4j_write, postgres_write,
// qdrant_write, redis_write), each with a compensation that is never called; every step's outcome
// durable before the next step starts. See ../shared/bench/anchors/README.md.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSagaLog } from '../src/log/open.js';
import { SagaEngine, defineSaga } from '../src/saga/index.js';
import { runLoad, type BenchRow } from './load.js';

const noop = async (x: unknown): Promise<unknown> => x;
const STEPS = ['neo4j_write', 'postgres_write', 'qdrant_write', 'redis_write'] as const;

export function anchorSaga() {
  let b = defineSaga<{ id: string }>('anchor_workload', 1) as ReturnType<typeof defineSaga<{ id: string }>>;
  for (const name of STEPS) {
    b = b.step({ name, run: async () => void (await noop(null)), compensate: async () => void (await noop(null)) }) as typeof b;
  }
  return b.build();
}

export interface EngineBenchOptions {
  log: string; // 'sqlite' | 'postgres' | 'memory'
  pgUrl?: string;
  concurrency: number;
  n: number;
  /** SQLite only: commit in a worker thread. */
  thread?: boolean;
}

export async function benchEngine(opts: EngineBenchOptions): Promise<BenchRow> {
  const target =
    opts.log === 'sqlite'
      ? join(mkdtempSync(join(tmpdir(), 'apex-bench-')), 'saga-log.db')
      : opts.log === 'postgres'
        ? (opts.pgUrl ?? process.env.APEX_TEST_DATABASE_URL ?? '')
        : 'memory';
  if (!target) throw new Error('--log postgres needs --pg-url or APEX_TEST_DATABASE_URL');
  const log = await openSagaLog(target, opts.thread ? { sqlite: { thread: true } } : {});
  const engine = new SagaEngine({ log, owner: 'bench' });
  const saga = anchorSaga();
  try {
    return await runLoad(
      `apex-engine ${opts.log}${opts.thread ? '-thread' : ''}`,
      (id) => engine.execute(saga, { id }),
      opts.n,
      opts.concurrency,
    );
  } finally {
    await engine.close();
    await log.close();
  }
}
