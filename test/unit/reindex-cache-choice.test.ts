// The embedding cache is chosen per embedder (src/ingest/sagas/cache-choice.ts): during a reindex,
// the dual writes and the reindex sagas embed with the new target's embedder, and whether those
// vectors are cached depends on that embedder, not on the process's own (found by
// bench/reindex.ts: a hashing deployment reindexing to a paid model paid for every chunk again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder, embeddingCachePolicy } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { IndexRecord } from '../../src/ingest/reindex/record.js';
import { VectorTargets, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { initialState } from '../../src/ingest/reindex/state.js';
import { startReindex } from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { reindexSaga } from '../../src/ingest/sagas/reindex-saga.js';
import type { EmbeddingModel, StoreSet } from '../../src/stores/types.js';
import { simStores } from '../support/sim-stores.js';
import { MemoryIndexState } from '../support/memory-index-state.js';

const doc = (i: number, v = 0) => ({ id: `cc-${i}`, title: `D${i}`, text: `Document ${i} v${v} on Vega Observatory.`, metadata: {} });

test('dual writes and reindex sagas use the cache by the target embedder, the process embedder by its own', async () => {
  const h256 = new HashingEmbedder(256);
  const raw = simStores(Date.now, 256);
  const looked: number[] = [];
  const postgres = new Proxy(raw.postgres, {
    get(t, prop, recv) {
      if (prop === 'lookupEmbeddings')
        return (use: unknown, model: EmbeddingModel, hashes: readonly string[]) => (
          looked.push(model.dimension),
          t.lookupEmbeddings(use as never, model, hashes)
        );
      return Reflect.get(t, prop, recv) as unknown;
    },
  });
  const stores: StoreSet = { ...raw, postgres };
  const record = new IndexRecord(new MemoryIndexState(), { cacheMs: 0 });
  await record.ensure(initialState({ ...targetOfEmbedder(h256), collection: 'apex_chunks' }));
  const targets = new VectorTargets(record, { primary: stores.qdrant, primaryCollection: 'apex_chunks', embedder: h256, env: {} });
  // A policy that caches only the new target's embedder (as `on` does for a paid model after a local one).
  const cacheFor = (e: { dimension: number }): boolean => e.dimension === 384;
  const engine = new SagaEngine({ log: new MemorySagaLog(), leaseMs: 5_000 });
  const writer = new MemoryWriter({ stores, engine, embedder: h256, targets, cacheEmbeddings: false, cacheFor, stepTimeoutMs: 2_000 });
  const def = reindexSaga({ stores, targets, stepTimeoutMs: 2_000, cacheEmbeddings: false, cacheFor });
  engine.register(def);
  try {
    for (let i = 0; i < 4; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed');
    assert.deepEqual(looked, [], 'the process embedder (256) is not cached');
    const deps = { stores, record, vectors: stores.qdrant, base: 'apex_chunks', sleep: async () => undefined };
    const started = await startReindex(deps, targetOfEmbedder(new HashingEmbedder(384)));
    assert.equal((await writer.ingest(doc(0, 1))).status, 'completed'); // a dual write
    const afterDual = looked.length;
    assert.ok(afterDual > 0, 'the dual write looked its 384 vectors up in the cache');
    const summary = await runReindex({ stores, engine, def }, targets.bind(started.state.next!), { concurrency: 2 });
    assert.deepEqual(summary.failed, []);
    assert.ok(looked.length > afterDual, 'the reindex sagas looked their 384 vectors up in the cache');
    assert.deepEqual([...new Set(looked)], [384], 'only the target embedder went through the cache');
  } finally {
    await engine.close();
  }
});

test('APEX_EMBEDDING_CACHE as a policy: on caches every embedder but a local one, all caches all, off none', () => {
  const local = new HashingEmbedder(8);
  const paid = { ...local, local: false } as unknown as HashingEmbedder;
  assert.deepEqual([embeddingCachePolicy({})(local), embeddingCachePolicy({})(paid)], [false, true]);
  assert.deepEqual(
    [embeddingCachePolicy({ APEX_EMBEDDING_CACHE: 'all' })(local), embeddingCachePolicy({ APEX_EMBEDDING_CACHE: 'off' })(paid)],
    [true, false],
  );
});
