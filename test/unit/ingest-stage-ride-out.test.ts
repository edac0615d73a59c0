// Issue 24 (found by test/crash/pg-async-promote.test.ts): staging a document's content is the
// first write of an ingest, before its saga begins. A PostgreSQL failover that met it (the
// connection cut, "Connection terminated unexpectedly", STORE_TRANSIENT) ended the document as an
// error although the saga would have ridden the outage out. It is retried within the first
// step's outage budget, like the reads before it; a permanent error still fails at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { isStoreError } from '../../src/stores/errors.js';
import { withFaults } from '../../src/stores/faults.js';
import type { StoreSet } from '../../src/stores/types.js';
import { closeStores, openMemoryStores } from '../support/memory-stores.js';

const embedder = new HashingEmbedder();
let stores: StoreSet;
before(async () => {
  stores = await openMemoryStores(embedder.dimension);
});
after(() => closeStores(stores));

const doc = (id: string) => ({ id, title: id, text: `Staged content of ${id} about Project Atlas.`, metadata: {} });

test('a transient failure of stageInput (before and after it applied) is retried: the document completes, verify 0', async () => {
  const faulty = withFaults(stores.postgres, {
    failOn: [
      { method: 'stageInput', when: 'before', retryable: true, times: 1 },
      { method: 'stageInput', when: 'after', retryable: true, times: 1 },
    ],
  });
  const engine = new SagaEngine({ log: new MemorySagaLog() });
  const writer = new MemoryWriter({ stores: { ...stores, postgres: faulty.store }, engine, embedder });
  const r = await writer.ingest(doc('staged-transient'));
  assert.equal(r.status, 'completed');
  assert.equal(
    faulty.faults.injected().filter((f) => f.method === 'stageInput').length,
    2,
    'both faults were met (otherwise the test proves nothing)',
  );
  assert.equal((await stores.postgres.getDocument('staged-transient'))?.ingestionStatus, 'committed');
  assert.deepEqual((await verifyStores(stores)).violations, []);
  await engine.close();
});

test('a permanent failure of stageInput still fails the document at once, with nothing written', async () => {
  const faulty = withFaults(stores.postgres, { failOn: [{ method: 'stageInput', when: 'before', retryable: false, times: 1 }] });
  const engine = new SagaEngine({ log: new MemorySagaLog() });
  const writer = new MemoryWriter({ stores: { ...stores, postgres: faulty.store }, engine, embedder });
  await assert.rejects(writer.ingest(doc('staged-permanent')), (err: unknown) => isStoreError(err) && !err.retryable);
  assert.equal(faulty.faults.injected().length, 1);
  assert.equal(await stores.postgres.getDocument('staged-permanent'), undefined);
  await engine.close();
});
