// Re-chunking end to end on the memory saga log and the simulation's fake stores: a corpus cut
// with the default chunking (v1) is re-chunked to 120/200 characters (v2) into a new collection
// while a writer updates, deletes and creates documents; then --switch, a write after it,
// --rollback, --switch again and --finish. Asserts what PostgreSQL, the graph and each collection
// hold per chunking, not the calls made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { VectorTargets, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { finishReindex, rollbackReindex, startReindex, switchReindex, verifyNext } from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { reindexSaga } from '../../src/ingest/sagas/reindex-saga.js';
import { getDocument } from '../../src/ingest/read.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import type { StoreSet, VectorStore } from '../../src/stores/types.js';
import { reindexUnitSetup } from '../support/reindex-unit.js';

const base = 'apex_chunks';
const paragraph = (i: number, p: number, v: number): string =>
  `Paragraph ${p} of document ${i} (version ${v}) mentions Vega Observatory and Lumen Harbor in a sentence that runs on for a while.`;
const doc = (i: number, v = 0) => ({
  id: `doc-${String(i).padStart(3, '0')}`,
  title: `Document ${i}`,
  text: Array.from({ length: 3 + (i % 4) }, (_, p) => paragraph(i, p, v)).join('\n\n'),
  metadata: { i },
});

/** chunk counts of `id`'s committed version: PostgreSQL per chunking, graph per chunking, a collection. */
async function counts(stores: StoreSet, id: string, k: number, vectors?: VectorStore): Promise<[number, number, number]> {
  const sha = (await stores.postgres.getDocument(id))?.contentSha256 ?? '';
  const pg = (await stores.postgres.getChunks(id, sha, k)).length;
  const graph = (await stores.neo4j.listVersions(id)).find((v) => v.contentSha256 === sha && (v.chunking ?? 1) === k)?.chunkCount ?? 0;
  const vec = vectors ? ((await vectors.listVersions(id)).find((v) => v.contentSha256 === sha)?.chunkCount ?? 0) : pg;
  return [pg, graph, vec];
}

test('re-chunk v1 -> 120/200 chars under live updates and deletes; switch, rollback, switch, finish', async () => {
  const h = new HashingEmbedder(64);
  const { stores, record, targets, engine } = await reindexUnitSetup(h);
  const writer = new MemoryWriter({ stores, engine, embedder: h, targets, stepTimeoutMs: 2_000 });
  const def = reindexSaga({ stores, targets, stepTimeoutMs: 2_000 });
  engine.register(def);
  const deps = { stores, record, vectors: stores.qdrant, base, sleep: async () => undefined };
  try {
    for (let i = 0; i < 24; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed');
    const started = await startReindex(deps, targetOfEmbedder(h), { targetChars: 120, maxChars: 200 });
    assert.equal(started.state.next?.chunking, 2);
    assert.deepEqual(started.state.chunkings, { '2': { targetChars: 120, maxChars: 200 } });
    const resumed = await startReindex(deps, targetOfEmbedder(h), { targetChars: 120, maxChars: 200 });
    assert.equal(resumed.version, started.version, 'the same command resumes: the record is unchanged');
    const next = targets.bind(started.state.next!);
    await assert.rejects(switchReindex(deps), { code: 'REINDEX_VERIFY_FAILED' });

    const live = (async () => {
      for (let i = 0; i < 8; i++) assert.equal((await writer.ingest(doc(i, 1))).status, 'completed'); // updates
      for (let i = 8; i < 12; i++) assert.equal((await writer.delete(doc(i).id)).status, 'completed'); // deletes
      for (let i = 24; i < 28; i++) assert.equal((await writer.ingest(doc(i))).status, 'completed'); // new documents
    })();
    const summary = await runReindex({ stores, engine, def }, next, { concurrency: 3, activeChunking: 1 });
    await live;
    assert.deepEqual(summary.failed, []);
    assert.equal((await runReindex({ stores, engine, def }, next, { activeChunking: 1 })).reindexed, 0, 'a fixed point');

    const report = await verifyNext(deps, (await record.read())!.state);
    assert.deepEqual(report.problems, []);
    assert.equal(report.committed, 24);
    for (let i = 0; i < 28; i++) {
      const id = doc(i).id;
      if (i >= 8 && i < 12) {
        assert.equal((await stores.postgres.tracesOf(id)).chunks, 0, `${id} deleted: no chunk of any chunking`);
        assert.deepEqual(await stores.neo4j.listVersions(id), []);
        continue;
      }
      const [pg1, graph1, vec1] = await counts(stores, id, 1, stores.qdrant);
      const [pg2, graph2, vec2] = await counts(stores, id, 2, next.store);
      assert.deepEqual([graph1, vec1], [pg1, pg1], `${id}: chunking 1 agrees`);
      assert.deepEqual([graph2, vec2], [pg2, pg2], `${id}: chunking 2 agrees`);
      assert.ok(pg2 > pg1, `${id}: the new chunking cuts smaller chunks (${pg2} vs ${pg1})`);
    }
    const extra = [{ collection: 'apex_chunks_v2', store: next.store, complete: false, chunking: 2 }];
    assert.deepEqual((await verifyStores(stores, { extraVectors: extra })).violations, []);

    // Switch: reads use chunking 2; writes keep producing both until --finish.
    await switchReindex(deps);
    const reader = await targets.reader();
    assert.equal(reader.target.chunking, 2);
    // `get` reads the active chunking's chunks (the fake vector store has no search).
    const view = await getDocument(stores, doc(13).id, reader.target.chunking);
    assert.equal(view?.chunks, (await counts(stores, doc(13).id, 2))[0]);
    assert.ok((view?.chunks ?? 0) > ((await getDocument(stores, doc(13).id, 1))?.chunks ?? 0));
    assert.equal((await writer.ingest(doc(0, 2))).status, 'completed');
    const sha = contentSha256(doc(0, 2));
    assert.equal((await stores.postgres.getDocument(doc(0).id))?.contentSha256, sha);
    const [a1, b1, c1] = await counts(stores, doc(0).id, 1, stores.qdrant);
    const [a2, b2, c2] = await counts(stores, doc(0).id, 2, next.store);
    assert.deepEqual([b1, c1, b2, c2], [a1, a1, a2, a2]);
    const complete = [{ ...extra[0]!, complete: true }];
    assert.deepEqual((await verifyStores(stores, { extraVectors: complete })).violations, []);

    // Rollback: reads back on chunking 1, both kept; switch again; finish removes chunking 1.
    const rolled = await rollbackReindex(deps);
    assert.equal(rolled.state.active.chunking, 1);
    assert.equal((await targets.reader()).target.chunking, 1);
    assert.ok((await stores.postgres.getChunks(doc(0).id, sha, 2)).length > 0, 'rollback keeps the new chunking');
    await switchReindex(deps);
    const done = await finishReindex(deps);
    assert.deepEqual([done.state.phase, done.state.active.chunking, done.state.retiredChunkings], ['steady', 2, undefined]);
    for (let i = 0; i < 28; i++) {
      const id = doc(i).id;
      const row = await stores.postgres.getDocument(id);
      if (!row?.contentSha256) continue;
      assert.deepEqual(await stores.postgres.getChunks(id, row.contentSha256, 1), [], `${id}: chunking 1 removed from PostgreSQL`);
      assert.deepEqual(
        (await stores.neo4j.listVersions(id)).map((v) => v.chunking),
        [2],
        `${id}: only chunking 2 nodes left`,
      );
    }
    // A process started after --finish (its own collection is the new one) writes chunking 2 only.
    const restarted = { ...stores, qdrant: next.store };
    const targets2 = new VectorTargets(record, { primary: next.store, primaryCollection: 'apex_chunks_v2', embedder: h, env: {} });
    const engine2 = new SagaEngine({ log: new MemorySagaLog(), leaseMs: 5_000 });
    const writer2 = new MemoryWriter({ stores: restarted, engine: engine2, embedder: h, targets: targets2, stepTimeoutMs: 2_000 });
    assert.equal((await writer2.ingest(doc(1, 3))).status, 'completed');
    await engine2.close();
    const sha3 = contentSha256(doc(1, 3));
    assert.deepEqual(await stores.postgres.getChunks(doc(1).id, sha3, 1), []);
    assert.ok((await stores.postgres.getChunks(doc(1).id, sha3, 2)).length > 0);
    assert.deepEqual((await verifyStores(restarted, { chunking: 2 })).violations, []);
    assert.equal((await finishReindex(deps)).version, done.version, 'a re-run of --finish has nothing left to do');
  } finally {
    await engine.close();
  }
});
