// The Qdrant adapter (official client) against the vector conformance suite, on the Qdrant Edge
// front: Qdrant's own storage engine (segments, WAL, payload indexes) behind services/qdrant-edge,
// reached through the checking proxy of test/support/qdrant-front.ts. Every request and response
// on the wire is checked against Qdrant's OpenAPI document when it is available (the output says
// whether it is); the run fails on any violation.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createQdrantStore } from '../../src/stores/qdrant/vector-store.js';
import type { VectorStore } from '../../src/stores/types.js';
import { isMissingCollection } from '../../src/stores/qdrant/collection.js';
import { ctxFor, makeVersion, rejectionOf } from '../support/conformance/fixtures.js';
import { contractSkipReason } from '../support/qdrant-contract.js';
import { startQdrantFront, type QdrantUnderTest } from '../support/qdrant-front.js';
import { collectionsConformance, vectorConformance } from '../support/store-conformance.js';

let front: QdrantUnderTest;
before(async () => {
  front = await startQdrantFront(); // empties the front: test files run one at a time
});

vectorConformance({
  label: 'qdrant-edge-front',
  async open(): Promise<VectorStore> {
    const store = createQdrantStore({ url: front.url, dimension: 16, timeoutMs: 10_000 });
    await store.connect();
    await store.connect(); // idempotent: a second connect finds the collection
    return store;
  },
  unreachable: () => createQdrantStore({ url: 'http://127.0.0.1:1', dimension: 16, timeoutMs: 3_000 }),
  async stallMidCall(write): Promise<unknown> {
    const store = createQdrantStore({ url: front.url, dimension: 16, timeoutMs: 1_000 });
    const stalled = front.stallNext('PUT', '/points');
    const err = await rejectionOf(write(store));
    await stalled;
    return err;
  },
  async dropMidCall(write): Promise<unknown> {
    const store = createQdrantStore({ url: front.url, dimension: 16, timeoutMs: 5_000 });
    const dropped = front.dropNext('PUT', '/points');
    const err = await rejectionOf(write(store));
    await dropped;
    return err;
  },
});

collectionsConformance({
  label: 'qdrant-edge-front',
  async open(): Promise<VectorStore> {
    const store = createQdrantStore({ url: front.url, dimension: 16, timeoutMs: 10_000 });
    await store.connect();
    return store;
  },
});

void it('a store bound to an alias never creates a collection under the alias name when its collection is gone', async () => {
  const store = createQdrantStore({ url: front.url, dimension: 16, timeoutMs: 10_000 });
  const [gone, alias] = ['c0000000a_gone', 'c0000000a_alias']; // the c<8 hex>_ names of the collections suite
  await store.ensureCollection(gone, 4);
  await store.setAlias(alias, gone);
  const reader = store.withCollection(alias, 4);
  await reader.connect();
  await store.deleteAlias(alias);
  await store.dropCollection(gone);
  const err = await rejectionOf(
    reader.writeVersion(makeVersion({ docId: 'via-alias', body: 'nowhere to go', chunkCount: 1, dimension: 4 }), ctxFor('s')),
  );
  assert.ok(isMissingCollection(err), String(err));
  assert.deepEqual(
    (await store.listCollections()).filter((c) => c.name.startsWith('c0000000a_')),
    [],
  );
});

void it("every request and response met Qdrant's OpenAPI contract", { skip: contractSkipReason() }, () => {
  assert.equal(front.contractChecked, true);
  assert.deepEqual(front.violations(), []);
});

void it('the adapter waited on every write and used only apex_chunks (and the collections suite its own c<run>_ names)', () => {
  const writes = front
    .requests()
    .filter((r) => r.template.endsWith('/points') || r.template.endsWith('/points/delete') || r.template.endsWith('/index'));
  assert.ok(writes.length > 0);
  assert.deepEqual(
    writes.filter((r) => r.query.wait !== 'true'),
    [],
  );
  const named = front.requests().filter((r) => r.collection !== '');
  assert.deepEqual(
    named.filter((r) => r.collection !== 'apex_chunks' && !/^c[0-9a-f]{8}_/.test(r.collection)).map((r) => `${r.method} ${r.collection}`),
    [],
  );
  // Requests without a collection in the path are the collection and alias management ones only.
  assert.deepEqual(
    [
      ...new Set(
        front
          .requests()
          .filter((r) => r.collection === '')
          .map((r) => `${r.method} ${r.template}`),
      ),
    ].sort(),
    ['GET /aliases', 'GET /collections', 'POST /collections/aliases'],
  );
});

after(async () => {
  await front.close();
});
