// `reindex --switch` under live traffic (src/ingest/reindex/switch-gate.ts): an update in flight
// has written its new version into both targets and not yet removed the old one, so verify finds
// a stale version in the new index; the switch waits for that saga to end and checks the document
// again instead of refusing. A gap no saga is filling (a document the reindex never wrote) is
// still refused. Memory saga log and the simulation's stores (collections in memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { startReindex, switchReindex, verifyNext } from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { reindexSaga } from '../../src/ingest/sagas/reindex-saga.js';
import type { StoreSet } from '../../src/stores/types.js';
import { reindexUnitSetup } from '../support/reindex-unit.js';

const base = 'apex_chunks';
const doc = (i: number, v = 0) => ({ id: `g-${i}`, title: `G ${i}`, text: `Gate ${i} version ${v} about Vega and Lumen.`, metadata: {} });

test('--switch waits for a saga in flight on a document verify found stale, then switches; a real gap is refused', async () => {
  const h256 = new HashingEmbedder(256);
  const { stores, record, targets, engine } = await reindexUnitSetup(h256, { leaseMs: 10_000 });
  // The writer's pivot waits for `open` (its dual vector write is done by then).
  let open: () => void = () => undefined;
  let reachedPivot: () => void = () => undefined;
  const atPivot = new Promise<void>((r) => (reachedPivot = r));
  const gate = new Promise<void>((r) => (open = r));
  let gated = false;
  const gatedStores: StoreSet = {
    ...stores,
    postgres: new Proxy(stores.postgres, {
      get(t, prop, recv) {
        const v: unknown = Reflect.get(t, prop, recv);
        if (prop !== 'commit' || typeof v !== 'function' || !gated) return v;
        return async (...args: unknown[]) => {
          reachedPivot();
          await gate;
          return (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        };
      },
    }),
  };
  const writer = new MemoryWriter({ stores: gatedStores, engine, embedder: h256, targets, stepTimeoutMs: 10_000 });
  const def = reindexSaga({ stores, targets, stepTimeoutMs: 5_000 });
  engine.register(def);
  const deps = { stores, record, vectors: stores.qdrant, base, switchWaitMs: 5_000 };
  try {
    for (let i = 0; i < 6; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed');
    const started = await startReindex(deps, targetOfEmbedder(new HashingEmbedder(384)));
    const next = targets.bind(started.state.next!);
    assert.deepEqual((await runReindex({ stores, engine, def }, next)).failed, []);

    // An update in flight: both targets hold its new version and the old one until its cleanup.
    gated = true;
    const update = writer.ingest(doc(2, 1));
    await atPivot;
    const state = (await record.read())!.state;
    assert.deepEqual(
      (await verifyNext(deps, state)).problems.map((p) => [p.docId, p.kind]),
      [['g-2', 'stale_version']],
      'verify sees the saga in flight',
    );
    setTimeout(open, 300);
    const switched = await switchReindex(deps);
    assert.equal(switched.state.phase, 'switched', 'the switch waited for the update and found the document current');
    assert.equal((await update).status, 'completed');
    assert.deepEqual((await verifyNext({ ...deps }, { ...switched.state, next: switched.state.active })).problems, []);
  } finally {
    await engine.close();
  }
});

test('--switch refuses at once when no saga holds the documents that are not current', async () => {
  const h256 = new HashingEmbedder(256);
  const { stores, record, engine } = await reindexUnitSetup(h256, { leaseMs: 10_000 });
  const writer = new MemoryWriter({ stores, engine, embedder: h256, stepTimeoutMs: 10_000 }); // no targets: writes the old index only
  let slept = 0;
  const deps = { stores, record, vectors: stores.qdrant, base, sleep: async () => void slept++ };
  try {
    await startReindex(deps, targetOfEmbedder(new HashingEmbedder(384)));
    assert.equal((await writer.ingest(doc(9))).status, 'completed'); // never reindexed: a real gap
    await assert.rejects(switchReindex(deps), { code: 'REINDEX_VERIFY_FAILED' });
    assert.equal(slept, 0, 'nothing in flight: no waiting');
  } finally {
    await engine.close();
  }
});
