// The reindex end to end on the memory saga log and the simulation's fake stores (SimVector keeps
// collections and aliases in memory): a corpus at hashing-256 is reindexed to hashing-384 while a
// writer updates, deletes and creates documents; then --switch, a write after it, --rollback,
// --switch again and --finish. Asserts what each collection holds, not the calls made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { checkErasure } from '../../src/ingest/erasure.js';
import { readViewOf, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { sweepDocument } from '../../src/ingest/sweep.js';
import { finishReindex, liveAlias, rollbackReindex, startReindex, switchReindex, verifyNext } from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { reindexSaga } from '../../src/ingest/sagas/reindex-saga.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import type { VectorStore } from '../../src/stores/types.js';
import { reindexUnitSetup } from '../support/reindex-unit.js';

const base = 'apex_chunks';
const doc = (i: number, v = 0) => ({
  id: `doc-${String(i).padStart(3, '0')}`,
  title: `Document ${i}`,
  text: `Document ${i} version ${v} talks about Vega Observatory and Lumen Harbor, paragraph ${i * 7 + v}.`,
  metadata: { i },
});

async function versions(store: VectorStore, id: string): Promise<string[]> {
  return (await store.listVersions(id)).map((v) => v.contentSha256).sort();
}

test('reindex 256 -> 384 under live updates and deletes; switch, rollback, switch, finish', async () => {
  const h256 = new HashingEmbedder(256);
  const { stores, record, targets, engine } = await reindexUnitSetup(h256);
  const writer = new MemoryWriter({ stores, engine, embedder: h256, targets, stepTimeoutMs: 2_000 });
  const def = reindexSaga({ stores, targets, stepTimeoutMs: 2_000 });
  engine.register(def);
  const deps = { stores, record, vectors: stores.qdrant, base, sleep: async () => undefined };
  try {
    for (let i = 0; i < 30; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed');
    const started = await startReindex(deps, targetOfEmbedder(new HashingEmbedder(384)));
    const next = targets.bind(started.state.next!);
    assert.equal(next.target.collection, 'apex_chunks_v2');
    await assert.rejects(switchReindex(deps), { code: 'REINDEX_VERIFY_FAILED' }, 'switch refused before the new index is complete');

    // The reindex loop and a live writer at once.
    const live = (async () => {
      for (let i = 0; i < 10; i++) assert.equal((await writer.ingest(doc(i, 1))).status, 'completed'); // updates
      for (let i = 10; i < 15; i++) assert.equal((await writer.delete(doc(i).id)).status, 'completed'); // deletes
      for (let i = 30; i < 35; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed'); // new documents
    })();
    const summary = await runReindex({ stores, engine, def }, next, { concurrency: 3 });
    await live;
    assert.deepEqual(summary.failed, []);
    const again = await runReindex({ stores, engine, def }, next); // a re-run: a fixed point, nothing to do
    assert.equal(again.reindexed, 0, 'the loop reached its fixed point: a re-run has nothing to do');

    const report = await verifyNext(deps, (await record.read())!.state);
    assert.deepEqual(report.problems, []);
    assert.equal(report.committed, 30);
    assert.equal(report.current, 30);
    const extra = [{ collection: 'apex_chunks_v2', store: next.store, complete: true }];
    assert.deepEqual((await verifyStores(stores, { extraVectors: extra })).violations, [], 'verify covers both targets');
    const erased = await checkErasure(stores, engine.log, doc(10).id, { extraVectors: extra });
    assert.equal(erased.stores.find((c) => c.store === 'qdrant')?.clean, true, 'a deleted document is in neither collection');
    // A point of a deleted document left in the new target is found there, naming the collection.
    await next.store.writeVersion(
      {
        docId: doc(11).id,
        title: '',
        contentSha256: 'f'.repeat(64),
        metadata: {},
        chunks: [{ idx: 0, text: 'x', entities: [], embedding: new Array<number>(384).fill(0.1) }],
      },
      { sagaId: 'test', fencingToken: 1 },
    );
    const found = (await verifyStores(stores, { extraVectors: extra })).violations;
    assert.deepEqual(
      found.map((v) => [v.kind, v.docId, v.detail]),
      [['orphan_data', doc(11).id, 'no PostgreSQL row (in apex_chunks_v2)']],
    );
    assert.equal((await checkErasure(stores, engine.log, doc(11).id, { extraVectors: extra })).erased, false);
    await next.store.removeDocument(doc(11).id);
    for (let i = 0; i < 35; i++) {
      const d = doc(i, i < 10 ? 1 : 0);
      const want = i >= 10 && i < 15 ? [] : [contentSha256(d)];
      assert.deepEqual(await versions(stores.qdrant, d.id), want, `${d.id} in the old collection`);
      assert.deepEqual(await versions(next.store, d.id), want, `${d.id} in the new collection`);
    }
    const dims = new Map((await stores.qdrant.listCollections()).map((c) => [c.name, c.dimension]));
    assert.equal(dims.get('apex_chunks_v2'), 384);

    // Switch: reads (and the alias) move; writes keep reaching both until --finish.
    const switched = await switchReindex(deps);
    assert.equal(switched.state.phase, 'switched');
    assert.deepEqual(await stores.qdrant.listAliases(), [{ alias: liveAlias(base), collection: 'apex_chunks_v2' }]);
    assert.equal((await targets.reader()).target.dimension, 384);
    assert.equal((await writer.ingest(doc(0, 2))).status, 'completed');
    assert.deepEqual(await versions(stores.qdrant, doc(0).id), [contentSha256(doc(0, 2))]);
    assert.deepEqual(await versions(next.store, doc(0).id), [contentSha256(doc(0, 2))]);

    // Rollback restores the old reads at once; switch again; finish drops the old collection.
    const rolled = await rollbackReindex(deps);
    assert.deepEqual([rolled.state.phase, rolled.state.active.collection], ['migrating', base]);
    assert.equal((await targets.reader()).target.dimension, 256);
    assert.deepEqual(await stores.qdrant.listAliases(), [{ alias: liveAlias(base), collection: base }]);
    await switchReindex(deps);
    const done = await finishReindex(deps);
    assert.deepEqual([done.state.phase, done.state.active.collection, done.state.retired], ['steady', 'apex_chunks_v2', undefined]);
    assert.deepEqual(
      (await stores.qdrant.listCollections()).map((c) => c.name),
      ['apex_chunks_v2'],
    );
    assert.equal((await finishReindex(deps)).version, done.version, 'a re-run of --finish has nothing left to do');

    // The same process (opened on the old collection with the old embedder) keeps writing after
    // --finish: its writes follow the record into the new collection, with the new embedder, and
    // never bring the dropped collection back.
    assert.equal((await writer.ingest(doc(1, 3))).status, 'completed');
    assert.equal((await writer.ingest(doc(40))).status, 'completed');
    assert.equal((await writer.delete(doc(2).id)).status, 'completed');
    assert.deepEqual(
      (await stores.qdrant.listCollections()).map((c) => c.name),
      ['apex_chunks_v2'],
      'the dropped collection stays dropped',
    );
    assert.deepEqual(await versions(next.store, doc(1).id), [contentSha256(doc(1, 3))]);
    assert.deepEqual(await versions(next.store, doc(40).id), [contentSha256(doc(40))]);
    assert.deepEqual(await versions(next.store, doc(2).id), []);
    const view = await readViewOf(stores, h256, targets);
    assert.equal(view.embedder.dimension, 384, 'reads and checks use the active index and its embedder');
    assert.deepEqual((await verifyStores(view.stores, { chunking: view.chunking })).violations, []);
    // A lost owner's late write is swept from every target the record names (here: the new one).
    const late = doc(3, 9);
    /** A write of version `late` sent by a saga that lost the document (one point). */
    const lateWrite = (store: VectorStore, dimension: number, sagaId: string) =>
      store.writeVersion(
        {
          docId: late.id,
          title: late.title,
          contentSha256: contentSha256(late),
          metadata: {},
          chunks: [{ idx: 0, text: late.text, entities: [], embedding: new Array<number>(dimension).fill(0.1) }],
        },
        { sagaId, fencingToken: 1 },
      );
    await lateWrite(next.store, 384, 'lost');
    const vectors = (await targets.writers()).map((b) => b.store);
    assert.deepEqual(await sweepDocument(stores, late.id, vectors), { swept: true, removed: 1 });
    assert.deepEqual(await versions(next.store, late.id), [contentSha256(doc(3, 1))]);

    // A saga that read the record before --finish and wrote after the drop creates the old
    // collection again; a re-run of --finish drops it (the record no longer names it).
    await lateWrite(stores.qdrant, 256, 'late');
    const names = async () => (await stores.qdrant.listCollections()).map((c) => c.name).sort();
    assert.deepEqual(await names(), [base, 'apex_chunks_v2'], 'the late write created the collection again');
    await finishReindex(deps);
    assert.deepEqual(await names(), ['apex_chunks_v2'], 'a re-run of --finish drops the stray collection');
  } finally {
    await engine.close();
  }
});
