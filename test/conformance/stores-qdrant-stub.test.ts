// The Qdrant adapter (official client) against the vector conformance suite, served by the Qdrant
// contract stub (no Qdrant server is installable here). Every request and response on the wire is
// checked against Qdrant's OpenAPI document; the run fails on any violation.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { createQdrantStore } from '../../src/stores/qdrant.js';
import type { VectorStore } from '../../src/stores/types.js';
import { rejectionOf } from '../support/conformance/fixtures.js';
import { startQdrantContractStub } from '../support/qdrant-stub.js';
import type { QdrantContractStub } from '../support/qdrant-stub.js';
import { vectorConformance } from '../support/store-conformance.js';

let stub: QdrantContractStub;
before(async () => {
  stub = await startQdrantContractStub();
});

vectorConformance({
  label: 'qdrant-via-contract-stub',
  async open(): Promise<VectorStore> {
    const store = createQdrantStore({ url: stub.url, dimension: 16, timeoutMs: 10_000 });
    await store.connect();
    await store.connect(); // idempotent: a second connect finds the collection
    return store;
  },
  unreachable: () => createQdrantStore({ url: 'http://127.0.0.1:1', dimension: 16, timeoutMs: 3_000 }),
  async stallMidCall(write): Promise<unknown> {
    const store = createQdrantStore({ url: stub.url, dimension: 16, timeoutMs: 1_000 });
    const stalled = stub.stallNext('PUT', '/points');
    const err = await rejectionOf(write(store));
    await stalled;
    return err;
  },
  async dropMidCall(write): Promise<unknown> {
    const store = createQdrantStore({ url: stub.url, dimension: 16, timeoutMs: 5_000 });
    const dropped = stub.dropNext('PUT', '/points');
    const err = await rejectionOf(write(store));
    await dropped;
    return err;
  },
});

void it('the adapter spoke only valid Qdrant wire format, and waited on every write', () => {
  assert.deepEqual(stub.violations(), []);
  const writes = stub.requests().filter((r) => r.template.endsWith('/points') || r.template.endsWith('/points/delete') || r.template.endsWith('/index'));
  assert.ok(writes.length > 0);
  assert.deepEqual(writes.filter((r) => r.query.wait !== 'true'), []);
  assert.ok(stub.requests().every((r) => r.collection === 'apex_chunks'));
});

after(async () => {
  await stub.close();
});
