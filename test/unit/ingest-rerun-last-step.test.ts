// A saga's last step may run again after it applied (the process died before its success was
// logged). By then it has given the document back, and later sagas may have written it again —
// even the very version this step removes. The repeat must not remove their work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { ingestSteps } from '../../src/ingest/sagas/ingest-saga.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { StoreSet } from '../../src/stores/types.js';
import { closeStores, openMemoryStores } from '../support/memory-stores.js';
import { resultReader } from '../../src/saga/index.js';

const embedder = new HashingEmbedder();
let stores: StoreSet;
before(async () => {
  stores = await openMemoryStores(embedder.dimension);
});
after(() => closeStores(stores));

test('cleanup_previous repeated after later sagas committed the version it removes: that version stays', async () => {
  const engine = new SagaEngine({ log: new MemorySagaLog() });
  const writer = new MemoryWriter({ stores, engine, embedder });
  const v1 = { id: 'rerun', title: 'Rerun', text: 'Version one about Project Atlas.', metadata: {} };
  const v2 = { ...v1, text: 'Version two about Redis Cluster.' };
  assert.equal((await writer.ingest(v1)).status, 'completed');
  const b = await writer.ingest(v2); // saga B: replaced v1 by v2, its last step removed v1
  assert.equal(b.status, 'completed');
  assert.equal((await writer.ingest(v1)).status, 'completed'); // saga C: back to v1, removed v2
  // B's last step again, as recovery would run it (attempt 2, same input and results).
  const cleanup = ingestSteps({ stores, embedder }).cleanupPrevious;
  const sha1 = contentSha256(v1);
  const sha2 = contentSha256(v2);
  const results = { postgres_pending: { chunks: 1, previousSha: sha1 } };
  await cleanup.run({
    sagaId: b.sagaId ?? 'B',
    input: { doc: v2, sha: sha2, previousSha: sha1 },
    results,
    result: resultReader(results),
    attempt: 2,
    idempotencyKey: `${b.sagaId ?? 'B'}/cleanup_previous`,
    signal: new AbortController().signal,
    fencingToken: 1,
  });
  assert.equal((await stores.postgres.getDocument('rerun'))?.contentSha256, sha1);
  assert.deepEqual(
    (await stores.neo4j.listVersions('rerun')).map((v) => v.contentSha256),
    [sha1],
  );
  assert.deepEqual(
    (await stores.qdrant.listVersions('rerun')).map((v) => v.contentSha256),
    [sha1],
  );
  assert.deepEqual((await verifyStores(stores)).violations, []);
  await engine.close();
});
