// The Qdrant contract stub must catch what real Qdrant would reject: otherwise the adapter's
// conformance run against it proves nothing. Raw HTTP here, so no client can tidy the bodies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contractSkipReason, loadQdrantContract } from '../support/qdrant-contract.js';
import { startQdrantContractStub } from '../support/qdrant-stub.js';
import type { QdrantContractStub } from '../support/qdrant-stub.js';

const UUID = '550e8400-e29b-41d4-a716-446655440000';
// The cases that prove the contract check catches bad bodies need Qdrant's OpenAPI document; without
// it they are skipped with that reason (and the output says contract checking is off).
const needsContract = { skip: contractSkipReason() };

async function call(stub: QdrantContractStub, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${stub.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: await res.json() };
}

void describe('Qdrant contract stub', () => {
  let stub: QdrantContractStub;
  before(async () => {
    stub = await startQdrantContractStub();
    await call(stub, 'PUT', '/collections/c', { vectors: { size: 2, distance: 'Cosine' } });
  });
  after(async () => {
    await stub.close();
  });

  void it('accepts a valid upsert and scroll without recording a violation', async () => {
    const up = await call(stub, 'PUT', '/collections/c/points?wait=true', {
      points: [{ id: UUID, vector: [1, 0], payload: { doc_id: 'd' } }],
    });
    assert.equal(up.status, 200);
    const scroll = await call(stub, 'POST', '/collections/c/points/scroll', { limit: 10, with_payload: true });
    assert.deepEqual((scroll.json as { result: unknown }).result, {
      points: [{ id: UUID, payload: { doc_id: 'd' } }],
      next_page_offset: null,
    });
    assert.deepEqual(stub.violations(), []);
  });

  void it('records a point whose id is a non-UUID string', needsContract, async () => {
    const res = await call(stub, 'PUT', '/collections/c/points?wait=true', { points: [{ id: 'doc-1:abc:0', vector: [1, 0] }] });
    assert.equal(res.status, 400);
    assert.ok(
      stub.violations().some((v) => v.includes('/points/0/id') && v.includes('uuid')),
      stub.violations().join('\n'),
    );
  });

  void it('records an upsert without a points field', needsContract, async () => {
    const before = stub.violations().length;
    const res = await call(stub, 'PUT', '/collections/c/points', { vectors: [[1, 0]] });
    assert.equal(res.status, 400);
    const added = stub.violations().slice(before);
    assert.ok(
      added.some((v) => v.includes("required property 'points'")),
      added.join('\n'),
    );
  });

  void it('records a delete whose filter has the wrong shape', needsContract, async () => {
    const before = stub.violations().length;
    await call(stub, 'POST', '/collections/c/points/delete', { filter: { must: 'doc_id' } });
    assert.ok(stub.violations().length > before);
  });

  void it('answers a missing collection with a contract-valid 404', async () => {
    const before = stub.violations().length;
    const res = await call(stub, 'POST', '/collections/missing/points/scroll', { limit: 1 });
    assert.equal(res.status, 404);
    assert.equal(stub.violations().length, before);
  });

  void it('the response check rejects bodies a real server could not send', needsContract, () => {
    const contract = loadQdrantContract();
    const scroll = '/collections/{collection_name}/points/scroll';
    assert.deepEqual(
      contract.checkResponse('POST', scroll, 200, { result: { points: [], next_page_offset: null }, status: 'ok', time: 0.1 }),
      [],
    );
    assert.notDeepEqual(
      contract.checkResponse('POST', scroll, 200, { result: { points: [{ id: 'not-a-uuid' }] }, status: 'ok', time: 0.1 }),
      [],
    );
    assert.notDeepEqual(contract.checkResponse('POST', scroll, 200, { result: { next_page_offset: null }, status: 'ok', time: 0.1 }), []);
  });
});

void it('without the OpenAPI document the stub still serves, and says nothing was checked', async () => {
  const stub = await startQdrantContractStub(null);
  try {
    assert.equal(stub.contractChecked, false);
    assert.equal((await call(stub, 'PUT', '/collections/c', { vectors: { size: 2, distance: 'Cosine' } })).status, 200);
    const up = await call(stub, 'PUT', '/collections/c/points?wait=true', { points: [{ id: UUID, vector: [1, 0] }] });
    assert.equal(up.status, 200);
    assert.deepEqual(stub.violations(), []);
  } finally {
    await stub.close();
  }
});
