// Re-chunking (issue 25, item 1) on the real servers (PostgreSQL, Neo4j, Redis, the Qdrant Edge
// front; saga log on PostgreSQL): 12 generated documents cut with the default chunking (v1) are
// re-chunked to 200/300 characters (v2) while a writer updates and deletes documents and a reader
// searches all along. Search never fails nor comes back empty, and answers from chunking 1 before
// the switch and chunking 2 after; after the switch verify is 0 on a process started afterwards,
// the chunk counts of chunking 2 agree in PostgreSQL, Neo4j and the new collection, deleted
// documents have no chunks of any chunking; rollback restores the old reads; finish removes
// chunking 1 from PostgreSQL and Neo4j.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import {
  finishReindex,
  rollbackReindex,
  startReindex,
  switchReindex,
  verifyNext,
  type ControlDeps,
} from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import type { StoreSet, VectorStore } from '../../src/stores/types.js';
import { realStores, type RealStores } from '../support/real-stores.js';

const N = 12;
const DELETED = [8, 9];
const doc = (i: number, v = 0) => ({
  id: `k-${String(i).padStart(3, '0')}`,
  title: `Log ${i}`,
  text: Array.from(
    { length: 4 },
    (_, p) =>
      `Log ${i} revision ${v}, part ${p}: the Vega Observatory logged ${i * 13 + v + p} events near Lumen Harbor. ${'Calibration notes follow. '.repeat(3)}`,
  ).join('\n\n'),
  metadata: { i, v },
});

let env: RealStores;
let app: App;
before(async () => {
  env = await realStores('rechunk', 14, { sagaLogOnPostgres: true });
  app = await openApp({ config: env.config, embedder: new HashingEmbedder(256) });
});
after(async () => {
  await app.close();
  assert.deepEqual(env.qdrant.violations(), [], 'every Qdrant request and response met the OpenAPI contract');
  await env.close();
});

/** [PostgreSQL, Neo4j, collection] chunk counts of the committed version in chunking `k`. */
async function counts(stores: StoreSet, vectors: VectorStore, id: string, k: number): Promise<[number, number, number]> {
  const sha = (await stores.postgres.getDocument(id))?.contentSha256 ?? '';
  const graph = (await stores.neo4j.listVersions(id)).find((v) => v.contentSha256 === sha && (v.chunking ?? 1) === k);
  const vec = (await vectors.listVersions(id)).find((v) => v.contentSha256 === sha);
  return [(await stores.postgres.getChunks(id, sha, k)).length, graph?.chunkCount ?? 0, vec?.chunkCount ?? 0];
}

test('re-chunk v1 -> 200/300 chars under live writes and searches; switch, rollback, finish', async () => {
  const index = app.index!;
  const deps: ControlDeps = { stores: app.stores, record: index.record, vectors: app.stores.qdrant, base: index.base };
  const h = new HashingEmbedder(256);
  await Promise.all(Array.from({ length: N }, async (_, i) => assert.equal((await app.writer.ingest(doc(i))).status, 'completed')));

  const started = await startReindex(deps, targetOfEmbedder(h), { targetChars: 200, maxChars: 300 });
  assert.deepEqual([started.state.next?.chunking, started.state.next?.collection], [2, 'apex_chunks_v2']);
  const next = index.targets.bind(started.state.next!);

  let reading = true;
  const seen: number[] = [];
  const reader = (async () => {
    while (reading) {
      const hits = await app.search('Vega Observatory events near Lumen Harbor', 3);
      assert.ok(hits.length > 0, 'search came back empty during the migration');
      seen.push((await index.targets.reader()).target.chunking);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const writer = (async () => {
    for (let i = 0; i < 5; i++) assert.equal((await app.writer.ingest(doc(i, 1))).status, 'completed');
    for (const i of DELETED) assert.equal((await app.writer.delete(doc(i).id)).status, 'completed');
  })();
  const t0 = performance.now();
  const run = { stores: app.stores, engine: app.engine, def: index.reindexDef };
  const summary = await runReindex(run, next, { concurrency: 4, activeChunking: 1 });
  await writer;
  const again = await runReindex(run, next, { activeChunking: 1 });
  console.log(
    `re-chunk (servers, loaded machine): ${summary.reindexed} documents in ${summary.seconds.toFixed(2)} s (wall ${((performance.now() - t0) / 1000).toFixed(2)} s, re-run reindexed ${again.reindexed})`,
  );
  assert.deepEqual(summary.failed, []);
  assert.equal(again.unsettled, 0);
  assert.deepEqual((await verifyNext(deps, (await index.record.read())!.state)).problems, []);
  const v2 = { collection: 'apex_chunks_v2', store: next.store, chunking: 2 };
  assert.deepEqual((await verifyStores(app.stores, { extraVectors: [{ ...v2, complete: false }] })).violations, []);

  await switchReindex(deps);
  await new Promise((r) => setTimeout(r, 1_100)); // the reader's record cache
  reading = false;
  await reader;
  assert.equal(seen[0], 1, 'reads came from chunking 1 before the switch');
  assert.equal(seen.at(-1), 2, 'and from chunking 2 after it');

  // A process started after the switch serves the new collection; verify there is 0, both chunkings.
  const later = await openApp({ config: env.config, embedder: h });
  try {
    const old = { collection: 'apex_chunks', store: app.stores.qdrant, chunking: 1, complete: true };
    assert.deepEqual((await verifyStores(later.stores, { chunking: 2, extraVectors: [old] })).violations, []);
    assert.ok((await later.search('Vega Observatory events near Lumen Harbor', 3)).length > 0);
  } finally {
    await later.close();
  }
  for (let i = 0; i < N; i++) {
    const id = doc(i).id;
    if (DELETED.includes(i)) {
      assert.equal((await app.stores.postgres.tracesOf(id)).chunks, 0, `${id}: no chunk of any chunking`);
      assert.deepEqual(await app.stores.neo4j.listVersions(id), [], `${id}: no chunk node of any chunking`);
      continue;
    }
    const [pg2, graph2, vec2] = await counts(app.stores, next.store, id, 2);
    const [pg1, graph1, vec1] = await counts(app.stores, app.stores.qdrant, id, 1);
    assert.deepEqual([graph2, vec2, graph1, vec1], [pg2, pg2, pg1, pg1], `${id}: the counts agree per chunking`);
    assert.ok(pg2 > pg1, `${id}: chunking 2 cuts more chunks (${pg2} vs ${pg1})`);
  }

  const rolled = await rollbackReindex(deps);
  assert.equal(rolled.state.active.chunking, 1);
  await new Promise((r) => setTimeout(r, 1_100));
  assert.equal((await index.targets.reader()).target.chunking, 1, 'rollback restores the old reads');
  assert.ok((await app.search('Vega Observatory events near Lumen Harbor', 3)).length > 0);

  await switchReindex(deps);
  const done = await finishReindex(deps);
  assert.deepEqual([done.state.phase, done.state.active.chunking, done.state.retiredChunkings], ['steady', 2, undefined]);
  for (let i = 0; i < N; i++) {
    const id = doc(i).id;
    const row = await app.stores.postgres.getDocument(id);
    if (!row?.contentSha256) continue;
    assert.deepEqual(await app.stores.postgres.getChunks(id, row.contentSha256, 1), [], `${id}: chunking 1 gone from PostgreSQL`);
    assert.deepEqual(
      (await app.stores.neo4j.listVersions(id)).map((v) => v.chunking),
      [2],
      `${id}: only chunking 2 nodes in Neo4j`,
    );
  }
  const fresh = await openApp({ config: env.config, embedder: h });
  try {
    assert.deepEqual((await verifyStores(fresh.stores, { chunking: 2 })).violations, []);
  } finally {
    await fresh.close();
  }
});
