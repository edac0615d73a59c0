// The Neo4j adapter over a neo4j:// (routing) URL, the documented default (issue 24), against the
// single embedded server: the driver asks it for a routing table and every call goes where the
// table says. The full graph conformance suite (stores-neo4j.test.ts, bolt://) takes ~100 s; this
// runs a representative subset over routing (write, read back, idempotence, compensation, the
// fence, a batch) plus the fence sweep, which needs a real server's clock and fence nodes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import neo4j from 'neo4j-driver';
import { createNeo4jStore, type Neo4jGraphStore } from '../../src/stores/neo4j/graph-store.js';
import { isStoreError } from '../../src/stores/errors.js';
import { sweepFences } from '../../src/ingest/fence-sweep.js';
import type { SagaLog, StoredSaga } from '../../src/saga/index.js';
import { cleanupPrefix, idsWithPrefix } from '../support/conformance/derived.js';
import { ctxFor, makeVersion, rejectionOf, runPrefix } from '../support/conformance/fixtures.js';
import { testServices } from '../support/services.js';

/** The test servers' Bolt address as a routing URL (services.sh exports bolt://). */
function routingUrl(): string {
  const u = new URL(testServices().neo4jUrl);
  return `neo4j://${u.hostname}:${u.port || '7687'}`;
}

void describe('Neo4j over neo4j:// (routing) on one server', () => {
  let store: Neo4jGraphStore;
  const prefix = runPrefix('neo4j-routing');
  const id = (name: string): string => `${prefix}${name}`;

  before(async () => {
    store = createNeo4jStore({ url: routingUrl(), timeoutMs: 20_000 });
    await store.connect();
  });
  after(async () => {
    assert.deepEqual(await cleanupPrefix(store, prefix, (d) => store.removeDocument(d)), []);
    await store.close();
  });

  void it('health names the routed server; a write is read back at once (bookmarks, leader reads)', async () => {
    const h = await store.health();
    assert.equal(h.ok, true, h.detail);
    const v = makeVersion({ docId: id('write'), body: 'alpha beta gamma', chunkCount: 3 });
    await store.writeVersion(v, ctxFor(id('saga-w')));
    await store.writeVersion(v, ctxFor(id('saga-w'))); // idempotent
    assert.deepEqual(await store.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 3 }]);
    assert.deepEqual(await store.versionsOf([v.docId]), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 3 }]);
    assert.deepEqual(await store.entities(v.docId, v.contentSha256), ['Entity 0', 'Entity 1', 'Topic 0', 'Topic 1', 'Topic 2']);
    assert.deepEqual(await idsWithPrefix(store, id('write')), [v.docId]);
  });

  void it('a compensation with a newer token removes the version and refuses the stale owner', async () => {
    const v = makeVersion({ docId: id('fenced'), body: 'late', chunkCount: 2 });
    const saga = id('saga-f');
    await store.removeVersion(v.docId, v.contentSha256, ctxFor(saga, 2));
    const err = await rejectionOf(store.writeVersion(v, ctxFor(saga, 1)));
    assert.ok(isStoreError(err) && err.code === 'STORE_FENCED' && !err.retryable, String(err));
    assert.deepEqual(await store.listVersions(v.docId), []);
  });

  void it('a batch write lands every member and refuses only the stale one', async () => {
    const a = makeVersion({ docId: id('batch-a'), body: 'batch a', chunkCount: 1 });
    const b = makeVersion({ docId: id('batch-b'), body: 'batch b', chunkCount: 2 });
    await store.removeVersion(b.docId, b.contentSha256, ctxFor(id('saga-b'), 5));
    const out = await store.writeVersionBatch([
      { v: a, ctx: ctxFor(id('saga-a')) },
      { v: b, ctx: ctxFor(id('saga-b'), 4) },
    ]);
    assert.equal(out[0]?.ok, true);
    assert.equal(out[1]?.ok, false);
    assert.deepEqual(await idsWithPrefix(store, id('batch-')), [a.docId]);
  });

  void it('the fence sweep removes fences of sagas ended N leases ago and keeps the others', async () => {
    const leaseMs = 100;
    const leases = 3; // fences kept 300 ms after their saga ended and after their last write
    const now = Date.now();
    const ended = (sagaId: string, endedAgoMs: number): StoredSaga =>
      ({ sagaId, status: 'completed', endedAt: now - endedAgoMs, updatedAt: now - endedAgoMs }) as unknown as StoredSaga;
    const running = (sagaId: string): StoredSaga => ({ sagaId, status: 'running', endedAt: null, updatedAt: now }) as unknown as StoredSaga;
    const sagas: Record<string, StoredSaga | undefined> = {
      [id('s-old')]: ended(id('s-old'), 60_000),
      [id('s-recent')]: ended(id('s-recent'), 10),
      [id('s-running')]: running(id('s-running')),
      [id('s-fresh-fence')]: ended(id('s-fresh-fence'), 60_000),
      [id('s-pruned')]: undefined, // the log no longer knows it: pruned, so ended
      [id('s-legacy')]: undefined, // pruned too, but its fence predates `written_at`
    };
    // Fences of other runs on this server belong to sagas this test does not know: kept as running.
    const log: Pick<SagaLog, 'load'> = {
      load: (sagaId) => Promise.resolve(sagaId.startsWith(prefix) ? sagas[sagaId] : running(sagaId)),
    };
    const doc = id('swept');
    for (const saga of [id('s-old'), id('s-recent'), id('s-running'), id('s-pruned')]) await store.removeDocument(doc, ctxFor(saga, 3));
    // A fence written before fences were stamped: the sweep stamps it and lets it age from then.
    const driver = neo4j.driver(routingUrl());
    try {
      await driver.executeQuery('MERGE (f:WriteFence {doc_id: $doc, saga_id: $saga}) SET f.fencing_token = 1', {
        doc,
        saga: id('s-legacy'),
      });
    } finally {
      await driver.close();
    }
    await new Promise((r) => setTimeout(r, 3 * leases * leaseMs)); // ages those four fences past N leases
    await store.removeDocument(doc, ctxFor(id('s-fresh-fence'), 3)); // written just now: young fence

    const result = await sweepFences(store, log, { leaseMs, leases, now: () => now });
    const left = (await store.scanFences(null, 100_000)).filter((f) => f.docId === doc).map((f) => f.sagaId);
    assert.deepEqual(left.sort(), [id('s-fresh-fence'), id('s-legacy'), id('s-recent'), id('s-running')].sort());
    assert.ok(result.removed >= 2 && result.scanned >= 6, JSON.stringify(result));

    // A removed fence is simply re-created by the next fenced write of that saga (a late owner of
    // an ended saga would write orphan data there, which verify reports: docs/stores.md).
    await store.removeDocument(doc, ctxFor(id('s-old'), 4));
    assert.ok((await store.scanFences(null, 100_000)).some((f) => f.docId === doc && f.sagaId === id('s-old')));
    await store.dropFences((await store.scanFences(null, 100_000)).filter((f) => f.docId === doc));
  });
});
