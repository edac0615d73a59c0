// issue 25 on the real servers (PostgreSQL, Neo4j, Redis, the Qdrant Edge front; saga log on
// PostgreSQL): 60 generated documents at hashing-256 are reindexed to hashing-384 while a writer
// updates and deletes documents and a reader searches all along. Search never fails nor comes back
// empty, and answers from the old collection before the switch and the new one after; after the
// switch verify is 0 on a process started with the new settings, every committed document's
// current version is in the new collection (dimension 384), deleted documents are in neither;
// rollback restores the old reads; finish drops the old collection. The record's SQL (CAS) runs on
// PostgreSQL here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import {
  finishReindex,
  liveAlias,
  rollbackReindex,
  startReindex,
  switchReindex,
  verifyNext,
  type ControlDeps,
} from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import type { VectorStore } from '../../src/stores/types.js';
import { realStores, type RealStores } from '../support/real-stores.js';

const N = 24;
const doc = (i: number, v = 0) => ({
  id: `r-${String(i).padStart(3, '0')}`,
  title: `Report ${i}`,
  text: `Report ${i} revision ${v}: the Vega Observatory logged ${i * 13 + v} events near Lumen Harbor. ${'Calibration notes follow. '.repeat(8)}`,
  metadata: { i, v },
});

let env: RealStores;
let app: App;
before(async () => {
  env = await realStores('reindex', 7, { sagaLogOnPostgres: true });
  app = await openApp({ config: env.config, embedder: new HashingEmbedder(256) });
});
after(async () => {
  await app.close();
  assert.deepEqual(env.qdrant.violations(), [], 'every Qdrant request and response met the OpenAPI contract');
  await env.close();
});

const versions = async (store: VectorStore, id: string): Promise<string[]> => (await store.listVersions(id)).map((v) => v.contentSha256);

test('reindex 256 -> 384 under live writes and searches; switch, rollback, finish', async () => {
  const index = app.index!;
  const deps: ControlDeps = { stores: app.stores, record: index.record, vectors: app.stores.qdrant, base: index.base };
  const tIngest = performance.now();
  await Promise.all(Array.from({ length: N }, async (_, i) => assert.equal((await app.writer.ingest(doc(i))).status, 'completed')));
  console.log(`ingest ${N}: ${((performance.now() - tIngest) / 1000).toFixed(2)} s`);

  // The record's CAS on PostgreSQL: a stale version writes nothing.
  const rec = await index.record.read();
  const pg = app.stores.postgres as unknown as { writeIndexState(v: number, s: unknown): Promise<number | null> };
  assert.equal(await pg.writeIndexState(rec!.version + 7, { bogus: true }), null);
  // A process with other settings refuses to start, naming both.
  await assert.rejects(openApp({ config: env.config, embedder: new HashingEmbedder(384) }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'INDEX_MISMATCH');
    assert.match(err.message, /EMBEDDING_DIMENSION=384.*dimension 256/);
    return true;
  });

  const started = await startReindex(deps, targetOfEmbedder(new HashingEmbedder(384)));
  const next = index.targets.bind(started.state.next!);
  assert.equal(next.target.collection, 'apex_chunks_v2');

  // A reader searching all along: never an error, never empty; which dimension answered.
  let reading = true;
  const seen: number[] = [];
  const reader = (async () => {
    while (reading) {
      const hits = await app.search('Vega Observatory events near Lumen Harbor', 3);
      assert.ok(hits.length > 0, 'search came back empty during the migration');
      seen.push((await index.targets.reader()).target.dimension);
      await new Promise((r) => setTimeout(r, 100)); // a user's pace, not a load test
    }
  })();
  const writer = (async () => {
    for (let i = 0; i < 10; i++) assert.equal((await app.writer.ingest(doc(i, 1))).status, 'completed');
    for (let i = 10; i < 16; i++) assert.equal((await app.writer.delete(doc(i).id)).status, 'completed');
  })();
  const t0 = performance.now();
  const summary = await runReindex({ stores: app.stores, engine: app.engine, def: index.reindexDef }, next, { concurrency: 4 });
  await writer;
  const again = await runReindex({ stores: app.stores, engine: app.engine, def: index.reindexDef }, next);
  console.log(
    `reindex (servers, loaded machine): ${summary.reindexed} documents in ${summary.seconds.toFixed(2)} s = ${(summary.reindexed / summary.seconds).toFixed(1)} docs/s (wall ${((performance.now() - t0) / 1000).toFixed(2)} s, re-run reindexed ${again.reindexed})`,
  );
  assert.deepEqual(summary.failed, []);
  assert.equal(again.unsettled, 0);
  const verified = await verifyNext(deps, (await index.record.read())!.state);
  assert.deepEqual(verified.problems, []);
  assert.equal(verified.current, N - 6);
  assert.deepEqual((await verifyStores(app.stores)).violations, [], 'the live collection verifies during dual writes');

  console.log(`after reindex: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  const switched = await switchReindex(deps);
  assert.equal(switched.state.phase, 'switched');
  assert.deepEqual(await app.stores.qdrant.listAliases(), [{ alias: liveAlias('apex_chunks'), collection: 'apex_chunks_v2' }]);
  await new Promise((r) => setTimeout(r, 1_100)); // the reader's record cache
  reading = false;
  await reader;
  assert.equal(seen[0], 256, 'reads came from the old collection before the switch');
  assert.equal(seen.at(-1), 384, 'and from the new one after it');

  // A process started with the new settings serves the new collection; verify there is 0.
  const app384 = await openApp({ config: env.config, embedder: new HashingEmbedder(384) });
  try {
    assert.deepEqual((await verifyStores(app384.stores)).violations, []);
    assert.equal(app384.stores.qdrant.dimension, 384);
    assert.ok((await app384.search('Vega Observatory events near Lumen Harbor', 3)).length > 0);
  } finally {
    await app384.close();
  }
  const dims = new Map((await app.stores.qdrant.listCollections()).map((c) => [c.name, c.dimension]));
  assert.equal(dims.get('apex_chunks_v2'), 384);
  for (let i = 0; i < N; i++) {
    const d = doc(i, i < 10 ? 1 : 0);
    const want = i >= 10 && i < 16 ? [] : [contentSha256(d)];
    assert.deepEqual(await versions(next.store, d.id), want, `${d.id} in the new collection`);
    assert.deepEqual(await versions(app.stores.qdrant, d.id), want, `${d.id} in the old collection`);
  }

  const rolled = await rollbackReindex(deps);
  assert.equal(rolled.state.active.collection, 'apex_chunks');
  await new Promise((r) => setTimeout(r, 1_100));
  assert.equal((await index.targets.reader()).target.dimension, 256, 'rollback restores the old reads');
  assert.ok((await app.search('Vega Observatory events near Lumen Harbor', 3)).length > 0);

  await switchReindex(deps);
  const done = await finishReindex(deps);
  assert.equal(done.state.phase, 'steady');
  assert.deepEqual(
    (await app.stores.qdrant.listCollections()).map((c) => c.name),
    ['apex_chunks_v2'],
  );

  // The app was opened on apex_chunks at 256 before the migration: after --finish its writes follow
  // the record into apex_chunks_v2 at 384 (no restart), its checks read the new index, and the
  // dropped collection is not created again by a write.
  await new Promise((r) => setTimeout(r, 1_100)); // the record cache
  const active = await index.targets.reader();
  assert.equal((await app.writer.ingest(doc(2, 5))).status, 'completed');
  assert.equal((await app.writer.delete(doc(3).id)).status, 'completed');
  assert.deepEqual(
    (await app.stores.qdrant.listCollections()).map((c) => c.name),
    ['apex_chunks_v2'],
    'the dropped collection stays dropped',
  );
  assert.deepEqual(await versions(active.store, doc(2).id), [contentSha256(doc(2, 5))]);
  assert.deepEqual(await versions(active.store, doc(3).id), []);
  const view = await app.readView();
  assert.equal(view.embedder.dimension, 384);
  assert.deepEqual((await verifyStores(view.stores, { chunking: view.chunking })).violations, []);
  assert.ok((await app.search('Vega Observatory events near Lumen Harbor', 3)).length > 0);
});
