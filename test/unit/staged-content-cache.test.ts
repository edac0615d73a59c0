// The staged content cache (src/ingest/sagas/content-cache.ts, issue 18): a saga run by the
// process that staged its content reads it from memory instead of PostgreSQL in every step, and
// removes the staged row once; a saga whose content this process did not stage (resumed, or a
// reused saga id with other content) reads the row as before.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import { StagedContentCache } from '../../src/ingest/sagas/content-cache.js';
import { documentOf } from '../../src/ingest/sagas/content.js';
import type { RelationalStore, StoreSet } from '../../src/stores/types.js';
import { withFaults } from '../../src/stores/faults.js';
import { closeStores, openMemoryStores } from '../support/memory-stores.js';

const embedder = new HashingEmbedder();
let stores: StoreSet;
before(async () => {
  stores = await openMemoryStores(embedder.dimension);
});
after(() => closeStores(stores));

const doc = (id: string, text = `Staged content of ${id} about Project Atlas.`) => ({ id, title: id, text, metadata: { k: id } });

/** Counts the staged-content calls that reach PostgreSQL. */
function counting(pg: RelationalStore): { store: RelationalStore; reads: () => number; drops: () => number } {
  let reads = 0;
  let drops = 0;
  const store = new Proxy(pg, {
    get(target, prop, receiver) {
      if (prop === 'stagedInput') return (id: string) => (reads++, target.stagedInput(id));
      if (prop === 'dropStagedInputs') return (ids: readonly string[]) => (drops++, target.dropStagedInputs(ids));
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { store, reads: () => reads, drops: () => drops };
}

test('an ingest and an update read their staged content from memory, remove the row once, verify 0', async () => {
  const pg = counting(stores.postgres);
  const engine = new SagaEngine({ log: new MemorySagaLog() });
  const writer = new MemoryWriter({ stores: { ...stores, postgres: pg.store }, engine, embedder });
  const created = await writer.ingest(doc('cc-1'));
  const updated = await writer.ingest(doc('cc-1', 'New text of cc-1 about Project Atlas and Orion.'));
  assert.equal(created.status, 'completed');
  assert.equal(updated.action, 'updated');
  assert.equal(updated.status, 'completed');
  assert.equal(pg.reads(), 0, 'no step read the staged content back from PostgreSQL');
  assert.equal(pg.drops(), 2, 'one removal per saga (its last action), not a second one by the writer');
  for (const s of [created, updated]) assert.equal(await stores.postgres.stagedInput(s.sagaId ?? ''), undefined);
  assert.equal(
    (await stores.postgres.getDocument('cc-1'))?.contentSha256,
    contentSha256(doc('cc-1', 'New text of cc-1 about Project Atlas and Orion.')),
  );
  assert.deepEqual((await verifyStores(stores)).violations, []);
  await engine.close();
});

test('a repeat of an ended (compensated) saga id stages its content again, and the writer removes it', async () => {
  const pg = counting(stores.postgres);
  const neo4j = withFaults(stores.neo4j, { failOn: [{ method: 'writeVersion', when: 'before', retryable: false, times: 1 }] });
  const engine = new SagaEngine({ log: new MemorySagaLog() });
  const writer = new MemoryWriter({ stores: { ...stores, postgres: pg.store, neo4j: neo4j.store }, engine, embedder });
  const first = await writer.ingest(doc('cc-2'), { sagaId: 'cc-2-saga' });
  assert.equal(first.status, 'compensated');
  assert.equal(pg.drops(), 1, 'the compensation removed the content; the writer did not remove it again');
  assert.equal(await stores.postgres.stagedInput('cc-2-saga'), undefined);
  // The same command again: the document is not committed, so it stages again; the log answers
  // the ended saga without running a step, so only the writer can remove what was staged.
  const again = await writer.ingest(doc('cc-2'), { sagaId: 'cc-2-saga' });
  assert.equal(again.status, 'compensated');
  assert.equal(pg.drops(), 2);
  assert.equal(await stores.postgres.stagedInput('cc-2-saga'), undefined, 'the repeat left no staged row behind');
  assert.equal(pg.reads(), 0);
  await engine.close();
});

test('documentOf: a miss reads PostgreSQL and keeps it; another hash under the same saga id misses', async () => {
  const cache = new StagedContentCache();
  const pg = counting(stores.postgres);
  const d = doc('cc-3');
  const sha = contentSha256(d);
  await stores.postgres.stageInput('cc-3-saga', d.id, { title: d.title, text: d.text, metadata: d.metadata });
  const s = { ...stores, postgres: pg.store };
  assert.deepEqual(await documentOf(s, 'cc-3-saga', { docId: d.id, sha, previousSha: null }, cache), d);
  assert.deepEqual(await documentOf(s, 'cc-3-saga', { docId: d.id, sha, previousSha: null }, cache), d);
  assert.equal(pg.reads(), 1, 'the second step hit the memory copy');
  // A caller reused the saga id with other content in memory: the logged hash decides, the row wins.
  cache.put('cc-3-saga', doc('cc-3', 'something else'), contentSha256(doc('cc-3', 'something else')));
  assert.deepEqual(await documentOf(s, 'cc-3-saga', { docId: d.id, sha, previousSha: null }, cache), d);
  assert.equal(pg.reads(), 2);
  await stores.postgres.dropStagedInputs(['cc-3-saga']);
});

test('the cache stays within its bytes: oldest out first, a document larger than the bound is not kept', () => {
  const cache = new StagedContentCache(4_000);
  const big = (id: string) => doc(id, 'x'.repeat(900));
  for (const id of ['a', 'b', 'c']) cache.put(id, big(id), id);
  assert.ok(cache.heldBytes <= 4_000);
  assert.equal(cache.get('a', 'a', 'a'), undefined, 'the oldest went first');
  assert.equal(cache.get('c', 'c', 'c')?.id, 'c');
  cache.put('huge', doc('huge', 'y'.repeat(5_000)), 'h');
  assert.equal(cache.get('huge', 'huge', 'h'), undefined);
  cache.markDropped('c');
  assert.equal(cache.get('c', 'c', 'c'), undefined);
  assert.equal(cache.takeDropped('c'), true);
  assert.equal(cache.takeDropped('c'), false, 'a mark is taken once');
});
