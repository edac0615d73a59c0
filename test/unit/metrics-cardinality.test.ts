// Metric cardinality: the number of series depends on saga names, steps, stores, operations and
// outcomes, never on how many sagas ran or on which documents. 10,000 sagas over 100 document ids
// must give exactly the series that 10 sagas give (with the same mix of outcomes), and no label
// value may carry a saga id or a document id.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemorySagaLog } from '../../src/log/memory.js';
import { createObservability } from '../../src/metrics/observe.js';
import { defineSaga, SagaEngine } from '../../src/saga/index.js';
import { StoreError } from '../../src/stores/errors.js';
import type { StoreSet } from '../../src/stores/types.js';

interface Input {
  doc: string;
  i: number;
}

/** Store fakes whose calls fail by the saga's number: i % 10 picks the outcome mix. */
function fakeStores(): StoreSet {
  const ok = async (): Promise<void> => {};
  const failing =
    (store: 'neo4j' | 'qdrant', code: 'STORE_TRANSIENT' | 'STORE_INJECTED', retryable: boolean) =>
    async (_v: unknown, ctx: { fail?: boolean }) => {
      if (ctx.fail === true) throw new StoreError(store, code, 'injected', { retryable });
    };
  return {
    postgres: { name: 'postgres', putPending: ok, commit: ok, discardPending: ok },
    neo4j: { name: 'neo4j', writeVersion: failing('neo4j', 'STORE_INJECTED', false), removeVersion: ok },
    qdrant: { name: 'qdrant', writeVersion: failing('qdrant', 'STORE_TRANSIENT', true), removeVersion: ok },
    redis: { name: 'redis', put: ok },
  } as unknown as StoreSet;
}

function ingestLike(stores: StoreSet) {
  const w = (ctx: { sagaId: string; fencingToken: number }, fail = false) => ({ sagaId: ctx.sagaId, fencingToken: ctx.fencingToken, fail });
  const retry = { maxAttempts: 3, initialDelayMs: 0, maxDelayMs: 0 };
  const call = (p: Promise<unknown>) => p.then(() => null);
  return defineSaga<Input>('ingest', 1)
    .step({
      name: 'postgres_pending',
      retry,
      run: (c) => call(stores.postgres.putPending({ docId: c.input.doc } as never, w(c))),
      compensate: (c) => stores.postgres.discardPending(c.input.doc, 'sha', w(c)),
    })
    .parallel((g) =>
      g
        .step({
          name: 'neo4j_write',
          retry,
          run: (c) => call(stores.neo4j.writeVersion({} as never, w(c, c.input.i % 10 === 3))),
          compensate: (c) => stores.neo4j.removeVersion(c.input.doc, 'sha', w(c)),
        })
        .step({
          name: 'qdrant_write',
          retry,
          run: (c) => call(stores.qdrant.writeVersion({} as never, w(c, c.input.i % 10 === 5 && c.attempt === 1))),
          compensate: (c) => stores.qdrant.removeVersion(c.input.doc, 'sha', w(c)),
        }),
    )
    .step({ name: 'postgres_commit', kind: 'pivot', retry, run: (c) => call(stores.postgres.commit(c.input.doc, 'sha', w(c))) })
    .step({ name: 'redis_write', kind: 'retriable', retry, run: (c) => call(stores.redis.put({} as never, w(c))) })
    .build();
}

async function seriesAfter(sagas: number, docs: number): Promise<{ series: string[]; text: string; ids: string[] }> {
  const obs = createObservability();
  const log = new MemorySagaLog();
  const engine = new SagaEngine({ log, leaseMs: 60_000, heartbeatMs: 0, hooks: obs.hooks });
  const saga = ingestLike(obs.wrapStores(fakeStores()));
  engine.register(saga);
  obs.attach({ engine });
  const inflight = new Set<Promise<unknown>>();
  const ids: string[] = [];
  for (let i = 0; i < sagas; i++) {
    const p: Promise<unknown> = engine
      .execute(saga, { doc: `doc-${i % docs}`, i })
      .then((o) => ids.push(o.sagaId))
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 200) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  await engine.close();
  const text = await obs.metrics.text();
  return {
    text,
    ids,
    series: text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => l.slice(0, l.lastIndexOf(' '))),
  };
}

test('10,000 sagas over 100 document ids produce the same series as 10 sagas', async () => {
  const small = await seriesAfter(10, 10);
  const big = await seriesAfter(10_000, 100);
  assert.ok(small.series.length > 50, `${small.series.length} series`);
  assert.deepEqual([...big.series].sort(), [...small.series].sort());
  // The outcome mix really ran: compensations (i % 10 == 3) and retries (i % 10 == 5).
  assert.match(big.text, /^apex_saga_finished_total\{saga="ingest",outcome="compensated"\} 1000$/m);
  assert.match(big.text, /^apex_saga_finished_total\{saga="ingest",outcome="completed"\} 9000$/m);
  assert.match(big.text, /^apex_saga_step_retries_total\{saga="ingest",step="qdrant_write",phase="run"\} 1000$/m);
  assert.doesNotMatch(big.text, /doc-\d/, 'no document id in any label');
  assert.equal(big.ids.length, 10_000);
  for (const id of big.ids.slice(0, 50)) assert.ok(!big.text.includes(id), `saga id ${id} in a label`);
});
