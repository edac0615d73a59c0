// Conformance cases for the batched reads verify and repair use at scale (docs/stores.md "Batched
// reads"): each must answer exactly what the per-document reads answer, in one call, and a full
// scanDocIds walk must visit every document. Called inside each store suite's describe.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { CacheEntry, CacheStore, DocIdPage, GraphStore, RelationalStore, VectorStore } from '../../../src/stores/types.js';
import { HOSTILE_STRINGS, ctxFor, makeVersion, sha256 } from './fixtures.js';

/** Walks a whole scan with small pages; every id seen, and how many pages it took. */
async function walk(
  scan: (cursor: string | null, limit: number) => Promise<DocIdPage>,
  limit: number,
): Promise<{ ids: Set<string>; pages: number }> {
  const ids = new Set<string>();
  let cursor: string | null = null;
  for (let pages = 1; pages < 100_000; pages += 1) {
    const page: DocIdPage = await scan(cursor, limit);
    for (const id of page.docIds) ids.add(id);
    if (page.next === null) return { ids, pages };
    cursor = page.next;
  }
  throw new Error('scanDocIds did not finish within 100,000 pages');
}

type Derived = GraphStore | VectorStore;

export function derivedBatchCases(store: () => Derived, id: (name: string) => string, dimension: () => number): void {
  void it('batched reads: versionsOf equals listVersions per document; scanDocIds visits every document', async () => {
    const s = store();
    const write = (v: ReturnType<typeof makeVersion>): Promise<void> =>
      s.name === 'neo4j' ? s.writeVersion(v, ctxFor('saga-batch')) : s.writeVersion(v, ctxFor('saga-batch'));
    const docs = [id('batch-a'), id('batch-b'), id(`batch-${HOSTILE_STRINGS[1] ?? 'x'}`), id('batch-c')];
    const made = [
      makeVersion({ docId: docs[0] ?? '', body: 'batch one', chunkCount: 2, dimension: dimension() }),
      makeVersion({ docId: docs[0] ?? '', body: 'batch one, next version', chunkCount: 3, dimension: dimension() }),
      makeVersion({ docId: docs[1] ?? '', body: 'batch two', chunkCount: 1, dimension: dimension() }),
      makeVersion({ docId: docs[2] ?? '', body: 'batch hostile', chunkCount: 4, dimension: dimension() }),
    ];
    for (const v of made) await write(v);
    const asked = [...docs, id('batch-absent')];
    const expected = (await Promise.all(asked.map((d) => s.listVersions(d)))).flat();
    const key = (v: { docId: string; contentSha256: string }): string => `${v.docId}\u0000${v.contentSha256}`;
    const sorted = <T extends { docId: string; contentSha256: string }>(xs: T[]): T[] =>
      [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    assert.equal(expected.length, 4);
    assert.deepEqual(sorted(await s.versionsOf(asked)), sorted(expected));
    assert.deepEqual(await s.versionsOf([]), []);
    const { ids } = await walk((c, l) => s.scanDocIds(c, l), 2);
    for (const d of docs.slice(0, 3)) assert.ok(ids.has(d), `scanDocIds missed ${d}`);
    assert.ok(!ids.has(id('batch-c')) && !ids.has(id('batch-absent')));
  });
}

export function cacheBatchCases(store: () => CacheStore, id: (name: string) => string): void {
  void it('batched reads: getMany equals get per document; scanDocIds visits every entry', async () => {
    const s = store();
    const entries: CacheEntry[] = [id('batch-a'), id('batch-b'), id(`batch-${HOSTILE_STRINGS[1] ?? 'x'}`)].map((docId, i) => ({
      docId,
      title: `t${i}`,
      contentSha256: sha256(`body ${i}`),
      chunkCount: i + 1,
      metadata: { i },
    }));
    for (const e of entries) await s.put(e, ctxFor('saga-batch'));
    const got = await s.getMany([...entries.map((e) => e.docId), id('batch-absent')]);
    const byId = (a: CacheEntry, b: CacheEntry): number => (a.docId < b.docId ? -1 : 1);
    assert.deepEqual([...got].sort(byId), [...entries].sort(byId));
    assert.deepEqual(await s.getMany([]), []);
    const { ids } = await walk((c, l) => s.scanDocIds(c, l), 2);
    for (const e of entries) assert.ok(ids.has(e.docId), `scanDocIds missed ${e.docId}`);
    assert.ok(!ids.has(id('batch-absent')));
  });
}

export function relationalBatchCases(store: () => RelationalStore, id: (name: string) => string): void {
  void it('batched reads: inspectDocuments and statusesOf equal the per-document reads', async () => {
    const s = store();
    const committed = makeVersion({ docId: id('batch-committed'), body: 'committed body', chunkCount: 3 });
    const update = makeVersion({ docId: committed.docId, body: 'update in flight', chunkCount: 2 });
    const pending = makeVersion({ docId: id('batch-pending'), body: 'pending body', chunkCount: 2 });
    const a = ctxFor('saga-batch-a');
    await s.putPending(committed, a);
    await s.commit(committed.docId, committed.contentSha256, a);
    await s.finishVersion(committed.docId, null, a);
    await s.putPending(update, ctxFor('saga-batch-b'));
    await s.putPending(pending, ctxFor('saga-batch-c'));
    const from = id('batch').slice(0, -1);
    const page = (await s.inspectDocuments(from, 1_000)).filter((d) => d.row.id.startsWith(id('batch-')));
    assert.deepEqual(
      page.map((d) => d.row.id),
      [committed.docId, pending.docId],
    );
    const rows = (await s.listDocuments(from, 1_000)).filter((r) => r.id.startsWith(id('batch-')));
    assert.deepEqual(
      page.map((d) => d.row),
      rows,
    );
    assert.equal(page[0]?.committedChunks, 3);
    assert.equal(page[1]?.committedChunks, 0);
    assert.deepEqual(page[0]?.pendingVersions, await s.getPendingVersions(committed.docId));
    assert.deepEqual(
      page[1]?.pendingVersions.map((p) => p.contentSha256),
      [pending.contentSha256],
    );
    const statuses = await s.statusesOf([committed.docId, pending.docId, id('batch-absent')]);
    assert.deepEqual([...statuses.entries()].sort(), [
      [committed.docId, 'committed'],
      [pending.docId, 'pending'],
    ]);
    assert.equal((await s.statusesOf([])).size, 0);
  });
}
