// Qdrant collection layout and write ordering (issue 24), on a private Qdrant Edge front behind
// the contract-checking proxy: the adapter sends QDRANT_SHARDS / QDRANT_REPLICATION_FACTOR /
// QDRANT_WRITE_CONSISTENCY at creation and `ordering=medium` on every write; the front validates
// those parameters as Qdrant's OpenAPI defines them (it has one shard, but keeps and reports the
// layout) and keeps them across a restart; listDocIds pages instead of loading the collection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createQdrantStore, type QdrantVectorStore } from '../../src/stores/qdrant/vector-store.js';
import { contractSkipReason } from '../support/qdrant-contract.js';
import { startEdgeFrontProcess, type EdgeFrontProcess } from '../support/qdrant-edge-process.js';
import { startQdrantFront, type QdrantUnderTest } from '../support/qdrant-front.js';
import { ctxFor, makeVersion } from '../support/conformance/fixtures.js';

const DIM = 8;

async function call(url: string, method: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function layoutOf(base: string, collection: string): Promise<Record<string, unknown>> {
  const { status, json } = await call(`${base}/collections/${collection}`, 'GET');
  assert.equal(status, 200, JSON.stringify(json));
  const params = (json.result as { config: { params: Record<string, unknown> } }).config.params;
  return {
    shard_number: params.shard_number,
    replication_factor: params.replication_factor,
    write_consistency_factor: params.write_consistency_factor,
  };
}

void describe('Qdrant layout and ordering on a private Qdrant Edge front', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'apex-qdrant-layout-'));
  let edge: EdgeFrontProcess;
  let front: QdrantUnderTest;
  let store: QdrantVectorStore;

  before(async () => {
    edge = await startEdgeFrontProcess(dataDir);
    front = await startQdrantFront({ target: edge.url, wipe: false });
    store = createQdrantStore({ url: front.url, dimension: DIM, timeoutMs: 10_000, shards: 2, replicationFactor: 2, writeConsistency: 2 });
    await store.connect();
  });
  after(async () => {
    await front.close();
    edge.proc.kill('SIGTERM');
    await edge.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  void it('the collection is created with the layout, and it survives a restart of the front', async () => {
    const expected = { shard_number: 2, replication_factor: 2, write_consistency_factor: 2 };
    assert.deepEqual(await layoutOf(edge.url, 'apex_chunks'), expected);
    edge.proc.kill('SIGTERM');
    await edge.exited;
    edge = await startEdgeFrontProcess(dataDir, Number(new URL(edge.url).port));
    assert.deepEqual(await layoutOf(edge.url, 'apex_chunks'), expected);
  });

  void it('every write goes out with ordering=medium and wait=true', async () => {
    const v = makeVersion({ docId: 'layout-doc', body: 'ordering', chunkCount: 3, dimension: DIM });
    await store.writeVersion(v, ctxFor('saga-layout'));
    await store.removeVersion(v.docId, v.contentSha256, ctxFor('saga-layout', 2));
    const writes = front.requests().filter((r) => r.template.endsWith('/points') || r.template.endsWith('/points/delete'));
    assert.ok(writes.length >= 2);
    assert.deepEqual(
      writes.filter((r) => r.query.ordering !== 'medium' || r.query.wait !== 'true'),
      [],
    );
  });

  void it('the front refuses a bad layout or ordering naming the field, and creates or writes nothing', async () => {
    const vectors = { size: DIM, distance: 'Cosine' };
    const cases: Array<[Record<string, unknown>, number, RegExp]> = [
      [{ shard_number: 0 }, 422, /shard_number: value 0 invalid, must be 1 or larger/],
      [{ replication_factor: -1 }, 422, /replication_factor: value -1 invalid/],
      [{ write_consistency_factor: 'two' }, 400, /write_consistency_factor: invalid value "two", expected u32/],
      [{ shard_number: 4294967296 }, 400, /shard_number: invalid value 4294967296, expected u32/],
      [{ shard_number: true }, 400, /shard_number: invalid value true/],
    ];
    for (const [layout, status, message] of cases) {
      const res = await call(`${edge.url}/collections/bad_layout`, 'PUT', { vectors, ...layout });
      assert.equal(res.status, status, JSON.stringify(res.json));
      assert.match(String((res.json.status as { error: string }).error), message);
      const exists = await call(`${edge.url}/collections/bad_layout/exists`, 'GET');
      assert.deepEqual(exists.json.result, { exists: false });
    }
    const point = {
      id: 1,
      vector: Array.from({ length: DIM }, () => 0.5),
      payload: { doc_id: 'bad-ordering', content_sha256: 'x', idx: 0 },
    };
    const bad = await call(`${edge.url}/collections/apex_chunks/points?wait=true&ordering=fastest`, 'PUT', { points: [point] });
    assert.equal(bad.status, 400);
    assert.match(
      String((bad.json.status as { error: string }).error),
      /unknown variant `fastest`, expected one of `weak`, `medium`, `strong`/,
    );
    assert.deepEqual(await store.listVersions('bad-ordering'), []);
  });

  void it('listDocIds pages through more points than one scroll page, in id order', async () => {
    const versions = Array.from({ length: 300 }, (_, i) =>
      makeVersion({ docId: `page-${String(i).padStart(3, '0')}`, body: `page ${i}`, chunkCount: 1, dimension: DIM }),
    );
    const out = await store.writeVersionBatch(versions.map((v) => ({ v, ctx: ctxFor(`saga-${v.docId}`) })));
    assert.ok(out.every((o) => o.ok));
    const all = versions.map((v) => v.docId);
    assert.deepEqual(await store.listDocIds(null, 10), all.slice(0, 10));
    assert.deepEqual(await store.listDocIds('page-289', 50), all.slice(290));
    assert.deepEqual(await store.listDocIds(null, 1000), all);
  });

  void it("every request and response met Qdrant's OpenAPI contract", { skip: contractSkipReason() }, () => {
    assert.equal(front.contractChecked, true);
    assert.deepEqual(front.violations(), []);
  });
});
