import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareDocument, contentSha256, canonicalJson } from '../../src/ingest/prepare.js';
import { HashingEmbedder, type Embedder } from '../../src/ingest/embedder.js';
import { DocumentError, EmbedderError } from '../../src/ingest/errors.js';
import { validateDocument } from '../../src/ingest/schema.js';

const longText = Array.from(
  { length: 30 },
  (_, i) => `Paragraph ${i} says that the Saga Engine writes to PostgreSQL and Neo4j. #sagas`,
).join('\n\n');
const doc = validateDocument({ id: 'notes/a.md', title: 'A note', text: longText, metadata: { team: 'Orion Team', tags: ['x'] } });

class CountingEmbedder implements Embedder {
  readonly name = 'counting';
  readonly dimension = 4;
  calls: number[] = [];
  constructor(private readonly lengthOverride?: number) {}
  embed(texts: string[]): Promise<number[][]> {
    this.calls.push(texts.length);
    return Promise.resolve(texts.map((t) => [t.length, 0, 0, 1].slice(0, this.lengthOverride ?? 4)));
  }
}

test('a DocumentVersion with chunks, entities and one embedding per chunk', async () => {
  const embedder = new HashingEmbedder();
  const v = await prepareDocument(doc, embedder);
  assert.equal(v.docId, 'notes/a.md');
  assert.equal(v.title, 'A note');
  assert.deepEqual(v.metadata, { team: 'Orion Team', tags: ['x'] });
  assert.match(v.contentSha256, /^[0-9a-f]{64}$/);
  assert.ok(v.chunks.length >= 3, `got ${v.chunks.length} chunks`);
  v.chunks.forEach((c, i) => {
    assert.equal(c.idx, i);
    assert.ok(c.text.length > 0 && c.text.length <= 1200);
    assert.equal(c.embedding.length, 256);
    assert.ok(c.entities.includes('Saga Engine') && c.entities.includes('#sagas'), c.entities.join(','));
  });
  assert.deepEqual(await prepareDocument(doc, embedder), v, 'deterministic');
});

test('embeddings are requested in batches, in chunk order', async () => {
  const embedder = new CountingEmbedder();
  const v = await prepareDocument(doc, embedder, { batchSize: 2 });
  assert.equal(
    embedder.calls.reduce((a, b) => a + b, 0),
    v.chunks.length,
  );
  assert.ok(embedder.calls.every((n) => n <= 2));
  assert.equal(embedder.calls.length, Math.ceil(v.chunks.length / 2));
  for (const c of v.chunks) assert.equal(c.embedding[0], c.text.length);
});

test('the content hash covers title, text and metadata, not metadata key order', () => {
  const base = { title: 'T', text: 'body', metadata: { a: 1, b: { c: 2, d: 3 } } };
  const h = contentSha256(base);
  assert.equal(contentSha256({ ...base, metadata: { b: { d: 3, c: 2 }, a: 1 } }), h);
  assert.notEqual(contentSha256({ ...base, title: 'T2' }), h);
  assert.notEqual(contentSha256({ ...base, text: 'body!' }), h);
  assert.notEqual(contentSha256({ ...base, metadata: { a: 2, b: { c: 2, d: 3 } } }), h);
  // No ambiguity between where the title ends and the text starts.
  assert.notEqual(contentSha256({ title: 'ab', text: 'c', metadata: {} }), contentSha256({ title: 'a', text: 'bc', metadata: {} }));
  assert.equal(canonicalJson({ b: [{ z: 1, y: 2 }], a: null }), '{"a":null,"b":[{"y":2,"z":1}]}');
});

test('an embedder returning the wrong vector length is a permanent error', async () => {
  await assert.rejects(
    prepareDocument(doc, new CountingEmbedder(3)),
    (err: unknown) => err instanceof EmbedderError && err.code === 'EMBED_PERMANENT',
  );
});

test('too many chunks is a DocumentError naming the field and limit', async () => {
  await assert.rejects(
    prepareDocument(doc, new CountingEmbedder(), { limits: { maxChunksPerDocument: 2 }, source: 'a.jsonl:3' }),
    (err: unknown) => err instanceof DocumentError && err.message === 'text: at most 2 chunks at a.jsonl:3',
  );
});

test('embedder errors pass through unchanged', async () => {
  const failing: Embedder = {
    name: 'failing',
    dimension: 4,
    embed: () => Promise.reject(new EmbedderError('EMBED_TRANSIENT', 'HTTP 503')),
  };
  await assert.rejects(prepareDocument(doc, failing), (err: unknown) => err instanceof EmbedderError && err.retryable);
});
