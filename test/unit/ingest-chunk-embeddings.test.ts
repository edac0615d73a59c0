// The embedding cache's logic (src/ingest/chunk-embeddings.ts) over the cache contract in memory
// (test/support/memory-embedding-cache.ts) and a fake model that counts what it embeds: a second
// run of the same version embeds nothing, an update embeds only its changed chunks, identical
// texts are embedded once, a cached vector of the wrong shape is a miss, and forgetting keeps
// every entry another document or version still uses. The SQL behind it runs against PostgreSQL
// and PGlite in test/integration/embedding-cache.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { embedChunks, textSha256 } from '../../src/ingest/chunk-embeddings.js';
import type { Embedder } from '../../src/ingest/embedder.js';
import { embeddingCacheFromEnv, HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryEmbeddingCache } from '../support/memory-embedding-cache.js';

class CountingModel implements Embedder {
  readonly name = 'counting';
  readonly dimension = 3;
  embedded: string[] = [];
  async embed(texts: string[]): Promise<number[][]> {
    this.embedded.push(...texts);
    return texts.map((t) => [t.length, t.charCodeAt(0), 1]);
  }
}

const vec = (t: string): number[] => [t.length, t.charCodeAt(0), 1];
const use = (docId: string, contentSha256: string) => ({ docId, contentSha256 });

void describe('embedChunks with the embedding cache', () => {
  void it('a re-run of the same version (retry, resume) embeds nothing', async () => {
    const model = new CountingModel();
    const store = new MemoryEmbeddingCache();
    const texts = ['alpha', 'beta', 'gamma'];
    assert.deepEqual(await embedChunks(model, texts, { cache: { store, use: use('d1', 'v1') } }), texts.map(vec));
    assert.equal(model.embedded.length, 3);
    assert.deepEqual(await embedChunks(model, texts, { cache: { store, use: use('d1', 'v1') } }), texts.map(vec));
    assert.equal(model.embedded.length, 3, 'the second run paid the model again');
  });

  void it('an update embeds only the chunks that changed', async () => {
    const model = new CountingModel();
    const store = new MemoryEmbeddingCache();
    await embedChunks(model, ['one', 'two', 'three'], { cache: { store, use: use('d1', 'v1') } });
    model.embedded = [];
    const out = await embedChunks(model, ['one', 'TWO changed', 'three'], { cache: { store, use: use('d1', 'v2') } });
    assert.deepEqual(model.embedded, ['TWO changed']);
    assert.deepEqual(out, ['one', 'TWO changed', 'three'].map(vec));
  });

  void it('identical texts in one version are embedded once; order and count are kept', async () => {
    const model = new CountingModel();
    const store = new MemoryEmbeddingCache();
    const out = await embedChunks(model, ['same', 'other', 'same'], { cache: { store, use: use('d1', 'v1') } });
    assert.deepEqual(model.embedded, ['same', 'other']);
    assert.deepEqual(out, ['same', 'other', 'same'].map(vec));
  });

  void it('another model or dimension never reads these vectors', async () => {
    const store = new MemoryEmbeddingCache();
    await embedChunks(new CountingModel(), ['x'], { cache: { store, use: use('d1', 'v1') } });
    const other = new CountingModel();
    Object.defineProperty(other, 'name', { value: 'counting-2' });
    await embedChunks(other, ['x'], { cache: { store, use: use('d1', 'v1') } });
    assert.deepEqual(other.embedded, ['x']);
  });

  void it('a cached vector of the wrong dimension is a miss', async () => {
    const model = new CountingModel();
    const store = new MemoryEmbeddingCache();
    await store.putEmbeddings(use('d1', 'v1'), { model: model.name, dimension: 3 }, [{ textSha256: textSha256('bad'), embedding: [1] }]);
    assert.deepEqual(await embedChunks(model, ['bad'], { cache: { store, use: use('d1', 'v1') } }), [vec('bad')]);
    assert.deepEqual(model.embedded, ['bad']);
  });

  void it('forget removes only the entries no other document or version uses', async () => {
    const model = new CountingModel();
    const store = new MemoryEmbeddingCache();
    await embedChunks(model, ['shared', 'only-a'], { cache: { store, use: use('A', 'a1') } });
    await embedChunks(model, ['shared', 'only-b'], { cache: { store, use: use('B', 'b1') } }); // a hit on "shared": B's use recorded
    assert.deepEqual(model.embedded, ['shared', 'only-a', 'only-b']);
    assert.equal(await store.forgetEmbeddings('A', null), 1);
    const left = new Set([...store.entries.values()].map((e) => e.textSha256));
    assert.deepEqual(left, new Set([textSha256('shared'), textSha256('only-b')]));
    assert.equal(store.usesOf('A'), 0);
    // A version of B replaced by another that keeps "shared": forgetting the old one keeps it.
    await embedChunks(model, ['shared', 'new-b'], { cache: { store, use: use('B', 'b2') } });
    assert.equal(await store.forgetEmbeddings('B', 'b1'), 1); // only-b
    assert.deepEqual(new Set([...store.entries.values()].map((e) => e.textSha256)), new Set([textSha256('shared'), textSha256('new-b')]));
  });

  void it('without a cache every text goes to the embedder', async () => {
    const model = new CountingModel();
    await embedChunks(model, ['a', 'a'], {});
    assert.deepEqual(model.embedded, ['a', 'a']);
  });
});

void describe('APEX_EMBEDDING_CACHE', () => {
  const remote = new CountingModel();
  const local = new HashingEmbedder(8);
  void it('on by default for a remote model, off for the local hashing embedder unless "all"', () => {
    assert.equal(embeddingCacheFromEnv({}, remote), true);
    assert.equal(embeddingCacheFromEnv({}, local), false);
    assert.equal(embeddingCacheFromEnv({ APEX_EMBEDDING_CACHE: 'all' }, local), true);
    assert.equal(embeddingCacheFromEnv({ APEX_EMBEDDING_CACHE: 'off' }, remote), false);
  });
  void it('a bad value names the variable and the choices', () => {
    assert.throws(
      () => embeddingCacheFromEnv({ APEX_EMBEDDING_CACHE: 'maybe' }, remote),
      (err: unknown) => (err as Error).message.includes('APEX_EMBEDDING_CACHE must be "on", "off" or "all"'),
    );
  });
});
