import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashingEmbedder, embedderFromEnv } from '../../src/ingest/embedder.js';
import { OpenAIEmbedder } from '../../src/ingest/openai-embedder.js';
import { CoalescedEmbedder } from '../../src/ingest/coalesced-embedder.js';
import { EmbedderError } from '../../src/ingest/errors.js';

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const cosine = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);

test('hashing embedder: 256 dimensions, unit length, deterministic across instances', async () => {
  const texts = ['Sagas compensate in reverse order.', 'Redis is a cache', '🚀🚀', '   ', ''];
  const a = await new HashingEmbedder().embed(texts);
  const b = await new HashingEmbedder().embed(texts);
  assert.deepEqual(a, b);
  assert.equal(a.length, texts.length);
  for (const v of a) {
    assert.equal(v.length, 256);
    assert.ok(Math.abs(norm(v) - 1) < 1e-9, `norm ${norm(v)}`);
    assert.ok(v.every(Number.isFinite));
  }
  assert.notDeepEqual(a[0], a[1]);
  assert.notDeepEqual(a[2], a[3], 'symbol-only text still depends on its content');
});

test('hashing embedder: case-insensitive and lexical (word overlap raises similarity)', async () => {
  const e = new HashingEmbedder();
  const [base, upper, near, far] = await e.embed([
    'postgres write ahead log durability',
    'POSTGRES Write Ahead LOG durability',
    'the postgres write ahead log matters',
    'graph entities and hashtags',
  ]);
  assert.ok(base && upper && near && far);
  assert.ok(Math.abs(cosine(base, upper) - 1) < 1e-9);
  assert.ok(cosine(base, near) > cosine(base, far) + 0.2, `${cosine(base, near)} vs ${cosine(base, far)}`);
});

test('hashing embedder: a golden vector stays the same (stored vectors depend on it)', async () => {
  // "alpha" (bucket 3, sign -), "beta" (bucket 7, sign -) and the bigram "alpha beta" (bucket 3,
  // sign +, weight 0.5): bucket 3 = -0.5, bucket 7 = -1, then L2-normalized. If this changes, every
  // vector already stored is stale: bump the embedder's name with it.
  const [v] = await new HashingEmbedder(8).embed(['alpha beta']);
  assert.deepEqual(
    v?.map((x) => Math.round(x * 1e6) / 1e6),
    [0, 0, 0, -0.447214, 0, 0, 0, -0.894427],
  );
  assert.equal(new HashingEmbedder(8).name, 'hashing-8');
});

test('hashing embedder honours an aborted signal and rejects a bad dimension', async () => {
  const controller = new AbortController();
  controller.abort(new Error('stop'));
  await assert.rejects(new HashingEmbedder().embed(['x'], controller.signal), /stop/);
  assert.throws(
    () => new HashingEmbedder(0),
    (err: unknown) => err instanceof EmbedderError && err.code === 'EMBED_CONFIG',
  );
});

test('embedderFromEnv: hashing by default, openai when asked, config errors never show the key', () => {
  const def = embedderFromEnv({});
  assert.ok(def instanceof HashingEmbedder);
  assert.equal(def.dimension, 256);
  assert.equal(embedderFromEnv({ EMBEDDER: 'hashing', EMBEDDING_DIMENSION: '64' }).dimension, 64);

  const openai = embedderFromEnv({
    EMBEDDER: 'openai',
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1/',
    OPENAI_API_KEY: 'sk-secret-123',
    EMBEDDING_MODEL: 'nomic-embed-text',
    EMBEDDING_DIMENSION: '768',
  });
  assert.ok(openai instanceof CoalescedEmbedder, 'requests of concurrent sagas are coalesced');
  assert.equal(openai.dimension, 768);
  assert.equal(openai.name, 'openai:nomic-embed-text@127.0.0.1:9');

  const configError = (env: Record<string, string>, pattern: RegExp): void => {
    assert.throws(
      () => embedderFromEnv(env),
      (err: unknown) => {
        assert.ok(err instanceof EmbedderError);
        assert.equal(err.code, 'EMBED_CONFIG');
        assert.match(err.message, pattern);
        assert.ok(!err.message.includes('sk-secret'), err.message);
        return true;
      },
    );
  };
  configError({ EMBEDDER: 'openai' }, /OPENAI_API_KEY/);
  configError({ EMBEDDER: 'openai', OPENAI_API_KEY: 'sk-secret-1', EMBEDDING_DIMENSION: 'big' }, /EMBEDDING_DIMENSION/);
  configError({ EMBEDDER: 'openai', OPENAI_API_KEY: 'sk-secret-1', OPENAI_BASE_URL: 'not a url' }, /OPENAI_BASE_URL/);
  configError({ EMBEDDER: 'word2vec' }, /hashing.*openai/);
  configError(
    { EMBEDDER: 'openai', OPENAI_API_KEY: 'sk-secret-1', APEX_EMBEDDING_MAX_INPUTS: '0' },
    /APEX_EMBEDDING_MAX_INPUTS must be an integer from 1 to 100000/,
  );
  configError(
    { EMBEDDER: 'openai', OPENAI_API_KEY: 'sk-secret-1', APEX_EMBEDDING_MAX_BYTES: '1e12' },
    /APEX_EMBEDDING_MAX_BYTES must be an integer from 1 to/,
  );
  configError({ EMBEDDER: 'openai', OPENAI_BASE_URL: 'http://user:pa55@127.0.0.1:9/v1' }, /credentials/);
  assert.throws(
    () => embedderFromEnv({ EMBEDDER: 'openai', OPENAI_BASE_URL: 'http://user:pa55@127.0.0.1:9/v1' }),
    (err: unknown) => err instanceof Error && !err.message.includes('pa55'),
  );
  // A local OpenAI-compatible server without auth needs no key.
  assert.ok(embedderFromEnv({ EMBEDDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }) instanceof CoalescedEmbedder);
  assert.ok(
    embedderFromEnv({ EMBEDDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', APEX_STORE_COALESCE: 'off' }) instanceof
      OpenAIEmbedder,
  );
});
