// Riding out an outage in `apex-memory worker` mode (issue 15): a step retrying a store that is
// down with the outage policy becomes a durable timer (the saga is released, the slot freed), the
// worker loop claims it again when due, and it completes once the store is back; the waiting is
// counted while it lasts. A permanent error is not retried: one attempt, then compensation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkerLoop } from '../../src/fleet/worker-loop.js';
import { storeRetry } from '../../src/ingest/sagas/outage-budget.js';
import { StoreWaits } from '../../src/ingest/store-waits.js';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, defineSaga } from '../../src/saga/index.js';
import { StoreError } from '../../src/stores/errors.js';

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1_000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function setup(fail: () => StoreError | undefined) {
  const log = new MemorySagaLog();
  const waits = new StoreWaits();
  const ends: string[] = [];
  let attempts = 0;
  let compensations = 0;
  const engine = new SagaEngine({ log, durableTimerThresholdMs: 50, hooks: [waits.hooks, { onSagaEnd: (e) => void ends.push(e.status) }] });
  const def = defineSaga<{ k: number }>('ride', 1)
    .step({
      name: 'neo4j_write',
      retry: storeRetry({ defaultMs: 20_000 }, 'ride', 'neo4j_write'),
      run: async () => {
        attempts++;
        const err = fail();
        if (err) throw err;
        return 'written';
      },
      compensate: async () => void compensations++,
    })
    .step({ name: 'commit', kind: 'pivot', run: async () => null })
    .build();
  engine.register(def);
  const loop = new WorkerLoop({ engine, concurrency: 4, pollMs: 20, warn: () => undefined });
  return { log, waits, ends, engine, def, loop, attempts: () => attempts, compensations: () => compensations };
}

test('worker: a store down for ~1.5 s is waited out through durable timers, then the saga completes', async () => {
  let down = true;
  const w = setup(() => (down ? new StoreError('neo4j', 'STORE_TRANSIENT', 'writeVersion failed: ServiceUnavailable') : undefined));
  const { sagaId } = await w.engine.submit(w.def, { k: 1 });
  void w.loop.start();
  await until(() => w.ends.includes('suspended'), 'a durable timer');
  assert.deepEqual(w.waits.current(), { neo4j: 1 }, 'the saga waits on neo4j');
  assert.equal(w.engine.activeCount, 0, 'released: no slot held while it waits');
  await new Promise((r) => setTimeout(r, 1_500));
  down = false;
  await until(async () => (await w.log.load(sagaId))?.status === 'completed', 'completion');
  await w.loop.stop({ graceMs: 1_000 });
  assert.ok(w.attempts() > 4, `more attempts than the old 4 (${w.attempts()})`);
  assert.equal(w.compensations(), 0);
  assert.deepEqual(w.waits.current(), {}, 'no longer waiting');
  assert.deepEqual(w.waits.total(), { neo4j: 1 });
});

test('worker: a permanent error is not an outage: one attempt, then the saga compensates', async () => {
  const w = setup(() => new StoreError('qdrant', 'STORE_PERMANENT', 'writeVersion: chunk 0 has 257 dimensions, collection has 256'));
  const { sagaId } = await w.engine.submit(w.def, { k: 1 });
  void w.loop.start();
  await until(async () => (await w.log.load(sagaId))?.status === 'compensated', 'compensation');
  await w.loop.stop({ graceMs: 1_000 });
  assert.equal(w.attempts(), 1);
  assert.equal(w.compensations(), 1);
  assert.deepEqual(w.waits.total(), {}, 'nobody waited');
});
