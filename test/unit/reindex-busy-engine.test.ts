// The reindex loop inside a busy process (the HTTP server, a worker): its engine also runs the
// writers' sagas, which never leave it idle. runReindex waits for its own reindex sagas only (those
// a killed run left, taken over at start), never for an unrelated saga of the same engine; and it
// still waits for a reindex saga of its engine that is in flight before it compares (a comparison
// beside it could end the loop at a false fixed point). Memory saga log and the simulation's fake
// stores, as the other reindex unit tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, defineSaga, type LogFilter, type LogPageOptions } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { IndexRecord } from '../../src/ingest/reindex/record.js';
import { VectorTargets, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { initialState } from '../../src/ingest/reindex/state.js';
import { startReindex, verifyNext } from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { reindexSaga } from '../../src/ingest/sagas/reindex-saga.js';
import type { StoreSet } from '../../src/stores/types.js';
import { simStores } from '../support/sim-stores.js';
import { MemoryIndexState } from '../support/memory-index-state.js';

const N = 6;
const doc = (i: number) => ({ id: `busy-${i}`, title: `D${i}`, text: `Document ${i} on Vega Observatory and Lumen Harbor.`, metadata: {} });
/** Only ends a test that would otherwise hang (the behaviour under test broken): its assertions fail
 * then. Far above the loop's time (under 0.1 s here), so that a slow machine cannot trip it. */
const WATCHDOG_MS = 30_000;

interface Gate {
  entered: Promise<void>;
  enter(): void;
  open(): void;
  opened: Promise<void>;
}
function gate(): Gate {
  let enter: () => void = () => undefined;
  let open: () => void = () => undefined;
  const entered = new Promise<void>((r) => (enter = r));
  const opened = new Promise<void>((r) => (open = r));
  return { entered, enter, open, opened };
}

/** A corpus of N documents at hashing-256 and a migration to hashing-384 started. */
async function migrating(wrap: (s: StoreSet) => StoreSet = (s) => s) {
  const h256 = new HashingEmbedder(256);
  const stores = simStores(Date.now, 256);
  const record = new IndexRecord(new MemoryIndexState(), { cacheMs: 0 });
  await record.ensure(initialState({ ...targetOfEmbedder(h256), collection: 'apex_chunks' }));
  const targets = new VectorTargets(record, { primary: stores.qdrant, primaryCollection: 'apex_chunks', embedder: h256, env: {} });
  const log = new MemorySagaLog();
  const engine = new SagaEngine({ log, leaseMs: 5_000 });
  const writer = new MemoryWriter({ stores, engine, embedder: h256, targets, stepTimeoutMs: 2_000 });
  const def = reindexSaga({ stores: wrap(stores), targets, stepTimeoutMs: 2_000 });
  engine.register(def);
  for (let i = 0; i < N; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed');
  const deps = { stores, record, vectors: stores.qdrant, base: 'apex_chunks', sleep: async () => undefined };
  const started = await startReindex(deps, targetOfEmbedder(new HashingEmbedder(384)));
  return { stores, engine, log, def, deps, next: targets.bind(started.state.next!), state: started.state };
}

test('an unrelated saga running on the same engine does not hold the reindex loop back', async () => {
  const m = await migrating();
  const hold = gate();
  const slow = defineSaga('slow_writer', 1)
    .step({
      name: 'hold',
      run: async () => {
        hold.enter();
        await hold.opened;
        return 1;
      },
    })
    .build();
  const watchdog = setTimeout(hold.open, WATCHDOG_MS);
  try {
    const unrelated = m.engine.execute(slow, {}, { sagaId: 'slow-1' });
    await hold.entered;
    const summary = await runReindex({ stores: m.stores, engine: m.engine, def: m.def }, m.next, { concurrency: 2 });
    const stillRunning = (await m.engine.outcomeOf('slow-1')) === undefined;
    hold.open();
    assert.equal((await unrelated).status, 'completed');
    assert.ok(stillRunning, 'the loop reached its fixed point while the unrelated saga still ran (it waited for it before)');
    assert.deepEqual([summary.reindexed, summary.unsettled, summary.failed.length], [N, 0, 0]);
    assert.deepEqual((await verifyNext(m.deps, m.state)).problems, []);
  } finally {
    clearTimeout(watchdog);
    await m.engine.close();
  }
});

test('a reindex saga of the engine in flight when the loop starts ends before the loop compares', async () => {
  const held = doc(2).id;
  const hold = gate();
  let armed = false;
  let released = false;
  // The in-flight saga stops in next_write (reading the committed row) until the gate opens; its
  // last step (postgres_release, the pivot) marks when it has done its work.
  const m = await migrating((s) => ({
    ...s,
    postgres: new Proxy(s.postgres, {
      get(t, prop, recv) {
        if (prop === 'getDocument')
          return async (id: string) => {
            if (armed && id === held) {
              armed = false;
              hold.enter();
              await hold.opened;
            }
            return t.getDocument(id);
          };
        if (prop === 'release')
          return async (...args: Parameters<typeof t.release>) => {
            await t.release(...args);
            if (args[0] === held) released = true;
          };
        return Reflect.get(t, prop, recv) as unknown;
      },
    }),
  }));
  armed = true;
  const inFlight = m.engine.execute(m.def, { docId: held }, { sagaId: 'in-flight', key: held });
  await hold.entered;
  // The gate opens once the loop has looked for its in-flight sagas (or at its first progress
  // report, if it did not look: then the assertion below fails instead of the test hanging).
  const list = (f?: LogFilter, p?: LogPageOptions) => m.log.list(f, p).finally(() => setImmediate(hold.open));
  let endedAtFirstReport: boolean | undefined;
  const watchdog = setTimeout(hold.open, WATCHDOG_MS);
  try {
    const summary = await runReindex({ stores: m.stores, engine: m.engine, def: m.def, log: { list } }, m.next, {
      concurrency: 2,
      onProgress: () => {
        endedAtFirstReport ??= released;
        hold.open();
      },
    });
    assert.equal((await inFlight).status, 'completed');
    assert.equal(endedAtFirstReport, true, 'the loop compared while a reindex saga of its engine still ran');
    assert.equal(summary.reindexed, N - 1, 'the in-flight saga did its document: the loop had the others to do');
    assert.deepEqual([summary.unsettled, summary.failed.length], [0, 0]);
    assert.deepEqual((await verifyNext(m.deps, m.state)).problems, []);
  } finally {
    clearTimeout(watchdog);
    await m.engine.close();
  }
});
