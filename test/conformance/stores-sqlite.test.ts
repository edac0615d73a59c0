// The SQLite stand-ins (graph, vector, cache) against their conformance suites, each in its own
// file under a temporary directory. In-process engines have no connection to cut, so the mid-call
// drop case runs for the server adapters only.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { openSqliteCache } from '../../src/stores/sqlite/cache-store.js';
import { openSqliteGraph } from '../../src/stores/sqlite/graph-store.js';
import { openSqliteVector } from '../../src/stores/sqlite/vector-store.js';
import { ctxFor, makeVersion } from '../support/conformance/fixtures.js';
import { cacheConformance, collectionsConformance, graphConformance, vectorConformance } from '../support/store-conformance.js';

const dir = mkdtempSync(join(tmpdir(), 'apex-sqlite-stores-'));
after(() => rmSync(dir, { recursive: true, force: true }));

graphConformance({ label: 'sqlite-graph', open: () => openSqliteGraph(join(dir, 'graph.db')) });
vectorConformance({ label: 'sqlite-vector', open: () => openSqliteVector(join(dir, 'vectors.db'), 16) });
cacheConformance({ label: 'sqlite-cache', open: () => openSqliteCache(join(dir, 'cache.db')) });
collectionsConformance({ label: 'sqlite-vector', open: () => openSqliteVector(join(dir, 'collections.db'), 16) });

void it('each stand-in keeps its data across close and reopen (one file each)', async () => {
  const reopenDir = join(dir, 'reopen');
  const v = makeVersion({ docId: 'persisted', body: 'kept on disk', chunkCount: 2, dimension: 4 });
  const graph = await openSqliteGraph(join(reopenDir, 'graph.db'));
  const vectors = await openSqliteVector(join(reopenDir, 'vectors.db'), 4);
  const cache = await openSqliteCache(join(reopenDir, 'cache.db'));
  await graph.writeVersion(v, ctxFor('s'));
  await vectors.writeVersion(v, ctxFor('s'));
  await cache.put({ docId: v.docId, title: v.title, contentSha256: v.contentSha256, chunkCount: 2, metadata: {} }, ctxFor('s'));
  await Promise.all([graph.close(), vectors.close(), cache.close()]);
  const graph2 = await openSqliteGraph(join(reopenDir, 'graph.db'));
  const vectors2 = await openSqliteVector(join(reopenDir, 'vectors.db'), 4);
  const cache2 = await openSqliteCache(join(reopenDir, 'cache.db'));
  try {
    assert.deepEqual(await graph2.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 2 }]);
    assert.deepEqual(await vectors2.listVersions(v.docId), [{ docId: v.docId, contentSha256: v.contentSha256, chunkCount: 2 }]);
    assert.equal((await cache2.get(v.docId))?.contentSha256, v.contentSha256);
  } finally {
    await Promise.all([graph2.close(), vectors2.close(), cache2.close()]);
  }
});

void it('vector stand-in: a switch made through one open file is seen at once by a reader with another (two connections, as two processes have)', async () => {
  const file = join(dir, 'two-openers', 'vectors.db');
  const writer = await openSqliteVector(file, 4);
  const other = await openSqliteVector(file, 4);
  try {
    const old = makeVersion({ docId: 'd', body: 'old side', chunkCount: 2, dimension: 4 });
    const fresh = makeVersion({ docId: 'd', body: 'new side, re-embedded', chunkCount: 3, dimension: 8 });
    await writer.writeVersion(old, ctxFor('s'));
    await writer.ensureCollection('apex_chunks_v2', 8);
    await writer.withCollection('apex_chunks_v2', 8).writeVersion(fresh, ctxFor('s'));
    await writer.setAlias('apex_read', 'apex_chunks');
    const reader = other.withCollection('apex_read', 8);
    assert.deepEqual(await reader.listVersions('d'), [{ docId: 'd', contentSha256: old.contentSha256, chunkCount: 2 }]);
    await writer.setAlias('apex_read', 'apex_chunks_v2');
    assert.deepEqual(await reader.listVersions('d'), [{ docId: 'd', contentSha256: fresh.contentSha256, chunkCount: 3 }]);
    assert.equal((await reader.search(fresh.chunks[0]?.embedding ?? [], 1))[0]?.contentSha256, fresh.contentSha256);
    await reader.close(); // a withCollection store leaves its opener's file open
    assert.deepEqual(
      (await other.listCollections()).map((c) => [c.name, c.dimension, c.points]),
      [
        ['apex_chunks', 4, 2],
        ['apex_chunks_v2', 8, 3],
      ],
    );
  } finally {
    await Promise.all([writer.close(), other.close()]);
  }
});
