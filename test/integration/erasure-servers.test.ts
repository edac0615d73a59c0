// Issue 23 on the real servers (PostgreSQL, Neo4j, Qdrant Edge front, Redis; saga log on
// PostgreSQL): after the deletes, no live row of any store and no saga-log row holds a deleted
// token, the kept documents are intact, and `verify --erased` proves it. Then erasure under faults:
// a store down during the delete, every delete step failing after it applied (re-run), and a
// delete racing an update: each ends erased, or reported not erased with the document intact.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { checkErasure } from '../../src/ingest/erasure.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { withFaults, type FaultControl } from '../../src/stores/faults.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { deletedTokens, found, keptTokens, runScenario, sagaLogText, tokenDoc, type ErasureDocs } from '../support/erasure-scenario.js';
import { serverTexts } from '../support/erasure-scans.js';
import { realStores, type RealStores } from '../support/real-stores.js';

let env: RealStores;
let app: App;
let faults: Record<StoreName, FaultControl>;
let docs: ErasureDocs;

before(async () => {
  const t0 = Date.now();
  env = await realStores('erasure', 2, { sagaLogOnPostgres: true });
  const t1 = Date.now();
  faults = {} as Record<StoreName, FaultControl>;
  app = await openApp({
    config: env.config,
    embedder: new HashingEmbedder(),
    outage: { defaultMs: 0 },
    wrapStores: (stores) => {
      const wrap = <K extends StoreName>(k: K): StoreSet[K] => {
        const w = withFaults(stores[k], {});
        faults[k] = w.faults;
        return w.store;
      };
      return { postgres: wrap('postgres'), neo4j: wrap('neo4j'), qdrant: wrap('qdrant'), redis: wrap('redis') };
    },
  });
  const t2 = Date.now();
  docs = await runScenario(app, 'erase-srv');
  console.log(`setup: real stores ${t1 - t0} ms, open ${t2 - t1} ms, scenario (9 ingests, 2 deletes) ${Date.now() - t2} ms`);
});

after(async () => {
  await app?.close();
  await env?.close();
});

test('servers: no live row of any store, and no saga-log row, holds a deleted token; kept documents intact; verify --erased', async () => {
  const texts = {
    ...(await serverTexts(env.databaseUrl, env.config)),
    log: await sagaLogText(app),
  };
  for (const [store, text] of Object.entries(texts))
    assert.deepEqual(found(text, deletedTokens(docs)), [], `${store} holds a deleted token`);
  // The scans can fail: the kept document's content is in PostgreSQL, Neo4j (entities) and Redis.
  assert.ok(
    found(texts.postgres, keptTokens(docs)).length > 0 &&
      found(texts.redis, keptTokens(docs)).length > 0 &&
      found(texts.neo4j, keptTokens(docs)).length > 0,
  );
  assert.deepEqual(found(texts.log, keptTokens(docs)), [], 'the saga log holds ids and hashes, never content');
  // Nothing names a deleted document but its write fences (ids and tokens only; they stay on
  // purpose: they refuse a stalled owner's late write, docs/erasure.md).
  const naming = (text: string, docId: string, fence: string): string[] =>
    text.split('\n').filter((l) => l.includes(docId) && !l.includes(fence));
  for (const docId of docs.deleted) {
    assert.equal((await checkErasure(app.stores, app.engine.log, docId)).erased, true);
    assert.deepEqual(naming(texts.neo4j, docId, 'WriteFence'), [], `Neo4j names ${docId}`);
    assert.deepEqual(naming(texts.redis, docId, '}:fence:'), [], `Redis names ${docId}`);
    assert.ok(!texts.qdrant.includes(docId), `Qdrant names ${docId}`);
  }
  for (const docId of docs.kept) assert.equal((await checkErasure(app.stores, app.engine.log, docId)).erased, false);
  assert.deepEqual((await verifyStores(app.stores)).violations, []);
});

test('servers: a store down during the delete: compensated, reported NOT erased, document intact; erased once it is back', async () => {
  const docId = docs.kept[0] ?? 'erase-srv-2';
  // Permanent: the step fails for good at once (a retryable error would wait out the outage budget).
  faults.neo4j.schedule({ method: 'removeDocument', times: 1, when: 'before', retryable: false });
  const r = await app.writer.delete(docId);
  assert.equal(r.status, 'compensated');
  const receipt = await checkErasure(app.stores, app.engine.log, docId);
  assert.equal(receipt.erased, false);
  assert.equal((await app.stores.postgres.getDocument(docId))?.ingestionStatus, 'committed');
  assert.deepEqual((await verifyStores(app.stores)).violations, [], 'never silently partial');
  const again = await app.writer.delete(docId);
  assert.equal(again.status, 'completed');
  const done = await checkErasure(app.stores, app.engine.log, docId);
  assert.equal(done.erased, true, JSON.stringify(done.stores));
  assert.equal(done.deleteSaga?.sagaId, again.sagaId, 'the receipt names the delete that erased it');
  docs.kept.splice(docs.kept.indexOf(docId), 1);
});

test('servers: every delete step failing once after it applied (the re-run of a maybe-applied step): ends erased', async () => {
  const steps: Array<[StoreName, string]> = [
    ['postgres', 'markDeleting'],
    ['redis', 'remove'],
    ['neo4j', 'removeDocument'],
    ['qdrant', 'removeDocument'],
    ['postgres', 'deleteDocument'],
  ];
  for (const [i, [store, method]] of steps.entries()) {
    const docId = `erase-rerun-${i}`;
    assert.equal((await app.writer.ingest(tokenDoc(docId, `rr${i}`, 0))).status, 'completed');
    const injected = faults[store].injected().length;
    faults[store].schedule({ method, times: 1, when: 'after', retryable: true });
    const r = await app.writer.delete(docId);
    assert.equal(faults[store].injected().length, injected + 1, `${store}.${method}: the fault was injected`);
    assert.equal(r.status, 'completed', `${store}.${method}: ${JSON.stringify(r.reason)}`);
    const receipt = await checkErasure(app.stores, app.engine.log, docId);
    assert.equal(receipt.erased, true, `${store}.${method}: ${JSON.stringify(receipt.stores)}`);
  }
});

test('servers: a delete racing an update (two processes): erased and absent, or present and not erased; never partial', async () => {
  const other = await openApp({ config: env.config, embedder: new HashingEmbedder() });
  try {
    for (let round = 0; round < 4; round++) {
      const docId = `erase-race-${round}`;
      assert.equal((await app.writer.ingest(tokenDoc(docId, `race${round}`, 0))).status, 'completed');
      const [, del] = await Promise.all([other.writer.ingest(tokenDoc(docId, `race${round}`, 1)), app.writer.delete(docId)]);
      const row = await app.stores.postgres.getDocument(docId);
      const receipt = await checkErasure(app.stores, app.engine.log, docId);
      assert.equal(
        receipt.erased,
        row === undefined,
        `round ${round}: delete ${del.status}, row ${row?.ingestionStatus ?? 'absent'}: ${JSON.stringify(receipt.stores)}`,
      );
    }
    assert.deepEqual((await verifyStores(app.stores)).violations, []);
  } finally {
    await other.close();
  }
});
