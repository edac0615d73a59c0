// Conformance suite for VectorCollections (issue 25): collections beside the live one and aliases
// moved atomically, run for the Qdrant adapter on the Qdrant Edge front and for the SQLite vector
// stand-in. Every collection and alias it makes carries a per-run prefix and is removed at the end.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { isStoreError } from '../../../src/stores/errors.js';
import { CollectionNameError } from '../../../src/stores/collection-names.js';
import type { VectorStore } from '../../../src/stores/types.js';
import { ctxFor, embeddingFor, makeVersion, rejectionOf } from './fixtures.js';

export interface CollectionsHarness {
  label: string;
  /** A connected store bound to its default collection. */
  open(): Promise<VectorStore>;
}

function codeOf(err: unknown): string | undefined {
  return isStoreError(err) ? err.code : undefined;
}

export function collectionsConformance(harness: CollectionsHarness): void {
  void describe(`VectorCollections conformance: ${harness.label}`, () => {
    let store: VectorStore;
    const run = `c${randomUUID().slice(0, 8)}_`;
    const name = (n: string): string => `${run}${n}`;
    const ctx = ctxFor('saga-collections');

    before(async () => {
      store = await harness.open();
    });
    after(async () => {
      for (const a of await store.listAliases()) if (a.alias.startsWith(run)) await store.deleteAlias(a.alias);
      for (const c of await store.listCollections()) if (c.name.startsWith(run)) await store.dropCollection(c.name);
      const left = [...(await store.listCollections()), ...(await store.listAliases()).map((a) => ({ name: a.alias }))];
      assert.deepEqual(
        left.filter((c) => c.name.startsWith(run)),
        [],
      );
      await store.close();
    });

    const mine = async (): Promise<Array<{ name: string; dimension: number; points: number }>> =>
      (await store.listCollections()).filter((c) => c.name.startsWith(run));

    void it('ensureCollection is idempotent and refuses another dimension', async () => {
      const c = name('ensure');
      await store.ensureCollection(c, 8);
      await store.ensureCollection(c, 8);
      assert.deepEqual(await mine(), [{ name: c, dimension: 8, points: 0 }]);
      const err = await rejectionOf(store.ensureCollection(c, 12));
      assert.equal(codeOf(err), 'STORE_CONFLICT', String(err));
      assert.match(String(err), /dimension 8, not 12/);
      assert.deepEqual(await mine(), [{ name: c, dimension: 8, points: 0 }]);
      await store.dropCollection(c);
    });

    void it('writes through withCollection(new) land there; the live collection is unchanged', async () => {
      const live = makeVersion({ docId: `${run}doc`, body: 'the live version', chunkCount: 2, dimension: store.dimension });
      await store.writeVersion(live, ctx);
      const c = name('next');
      await store.ensureCollection(c, 12);
      const next = store.withCollection(c, 12);
      await next.connect();
      const rebuilt = makeVersion({ docId: live.docId, body: 'the re-embedded version', chunkCount: 3, dimension: 12 });
      await next.writeVersion(rebuilt, ctx);

      assert.deepEqual(await next.listVersions(live.docId), [{ docId: live.docId, contentSha256: rebuilt.contentSha256, chunkCount: 3 }]);
      assert.deepEqual(await store.listVersions(live.docId), [{ docId: live.docId, contentSha256: live.contentSha256, chunkCount: 2 }]);
      const hit = (await next.search(rebuilt.chunks[1]?.embedding ?? [], 5))[0];
      assert.deepEqual(hit && [hit.docId, hit.contentSha256, hit.idx], [live.docId, rebuilt.contentSha256, 1]);
      assert.deepEqual(await mine(), [{ name: c, dimension: 12, points: 3 }]);
      // A vector of the live dimension does not fit the new collection.
      assert.equal(codeOf(await rejectionOf(next.search(embeddingFor(1, store.dimension), 5))), 'STORE_PERMANENT');

      await store.removeDocument(live.docId, ctx);
      await store.dropCollection(c);
    });

    void it('setAlias moves reads at once: readers through the alias see one side or the other, never an error or nothing', async () => {
      const a = name('blue');
      const b = name('green');
      const alias = name('read');
      const docId = `${run}aliased`;
      await store.ensureCollection(a, 8);
      await store.ensureCollection(b, 8);
      const va = makeVersion({ docId, body: 'blue side', chunkCount: 2, dimension: 8 });
      const vb = makeVersion({ docId, body: 'green side!', chunkCount: 2, dimension: 8 });
      await store.withCollection(a, 8).writeVersion(va, ctx);
      await store.withCollection(b, 8).writeVersion(vb, ctx);
      await store.setAlias(alias, a);
      const reader = store.withCollection(alias, 8);
      const before = await mine();
      await reader.connect(); // an alias: creates nothing
      assert.deepEqual(await mine(), before);
      assert.deepEqual(await store.listAliases().then((l) => l.filter((x) => x.alias.startsWith(run))), [{ alias, collection: a }]);

      // One read through the alias: listVersions or search (each one request), which must answer
      // from exactly one side. Two reads in a row may straddle a flip; one read may not.
      let turn = 0;
      const side = async (): Promise<string> => {
        turn += 1;
        const shas =
          turn % 2 === 0
            ? (await reader.listVersions(docId)).map((v) => v.contentSha256)
            : (await reader.search(va.chunks[0]?.embedding ?? [], 3)).map((h) => h.contentSha256);
        const distinct = [...new Set(shas)];
        assert.equal(distinct.length, 1, `one side per read, got ${distinct.join(', ') || 'nothing'}`);
        return distinct[0] ?? '';
      };
      let flipping = true;
      const seen: string[] = [];
      const readers = Array.from({ length: 3 }, async () => {
        while (flipping) seen.push(await side());
      });
      const flips = (async () => {
        try {
          for (let i = 1; i <= 20; i += 1) {
            const target = i % 2 === 1 ? b : a;
            await store.setAlias(alias, target);
            assert.equal(await side(), target === a ? va.contentSha256 : vb.contentSha256, `flip ${i}: reads follow the alias`);
          }
        } finally {
          flipping = false;
        }
      })();
      await Promise.all([flips, ...readers]);
      assert.ok(seen.length >= 3, `the readers read ${seen.length} times`);
      assert.deepEqual(
        seen.filter((s) => s !== va.contentSha256 && s !== vb.contentSha256),
        [],
      );
      assert.equal(await side(), va.contentSha256); // 20 flips: back on `a`
    });

    void it('dropCollection refuses while an alias points at it; deleteAlias and drop of absent names are no-ops', async () => {
      const c = name('held');
      const alias = name('holder');
      await store.ensureCollection(c, 8);
      await store.withCollection(c, 8).writeVersion(makeVersion({ docId: `${run}held`, body: 'kept', chunkCount: 2, dimension: 8 }), ctx);
      await store.setAlias(alias, c);
      const err = await rejectionOf(store.dropCollection(c));
      assert.equal(codeOf(err), 'STORE_CONFLICT', String(err));
      assert.match(String(err), new RegExp(alias));
      assert.deepEqual(
        (await mine()).filter((x) => x.name === c),
        [{ name: c, dimension: 8, points: 2 }],
      );
      // An alias is not a collection: dropping it by that name is refused, not a silent no-op.
      assert.equal(codeOf(await rejectionOf(store.dropCollection(alias))), 'STORE_CONFLICT');
      await store.deleteAlias(alias);
      await store.deleteAlias(alias);
      await store.dropCollection(c);
      await store.dropCollection(c);
      await store.dropCollection(name('never-made'));
      assert.deepEqual(
        (await mine()).filter((x) => x.name === c),
        [],
      );
    });

    void it('a name is a collection or an alias, never both; an alias needs an existing collection', async () => {
      const c = name('solo');
      const alias = name('solo-alias');
      await store.ensureCollection(c, 8);
      assert.equal(codeOf(await rejectionOf(store.setAlias(c, c))), 'STORE_CONFLICT');
      assert.equal(codeOf(await rejectionOf(store.setAlias(alias, name('missing')))), 'STORE_PERMANENT');
      assert.deepEqual(
        (await store.listAliases()).filter((x) => x.alias === alias || x.alias === c),
        [],
      );
      await store.setAlias(alias, c);
      assert.equal(codeOf(await rejectionOf(store.ensureCollection(alias, 8))), 'STORE_CONFLICT');
      await store.deleteAlias(alias);
      await store.dropCollection(c);
    });

    void it('names with bad characters or over 255 characters are refused, naming the field, before anything is written', async () => {
      const before = await mine();
      const cases: Array<[Promise<unknown>, string, RegExp]> = [
        [store.ensureCollection('bad/name', 8), 'name', /"\/"/],
        [store.ensureCollection(`${run}${'x'.repeat(256)}`, 8), 'name', /limit is 255/],
        [store.ensureCollection('', 8), 'name', /non-empty/],
        [store.setAlias('a:b', name('blue')), 'alias', /":"/],
        [store.setAlias(name('ok'), 'x|y'), 'collection', /"\|"/],
        [store.dropCollection('what?'), 'name', /"\?"/],
        [store.deleteAlias('tab\u001fname'), 'alias', /U\+001F|\\u001f/],
      ];
      for (const [call, field, detail] of cases) {
        const err = await rejectionOf(call);
        assert.ok(err instanceof CollectionNameError, String(err));
        assert.equal(err.field, field);
        assert.equal(err.code, 'STORE_PERMANENT');
        assert.match(err.message, new RegExp(`: ${field} `));
        assert.match(err.message, detail);
      }
      assert.throws(
        () => store.withCollection('no*star', 8),
        (e: unknown) => e instanceof CollectionNameError && e.field === 'name',
      );
      assert.equal(codeOf(await rejectionOf(store.ensureCollection(name('zero'), 0))), 'STORE_PERMANENT');
      assert.deepEqual(await mine(), before);
    });
  });
}
