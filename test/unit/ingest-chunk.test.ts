import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunkText } from '../../src/ingest/chunk.js';
import { DocumentError } from '../../src/ingest/errors.js';

// Randomized: the seed is printed; replay a failure with FC_SEED=<seed>.
const seed = process.env.FC_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FC_SEED);
console.log(`ingest-chunk: fast-check seed ${seed} (replay with FC_SEED=${seed})`);

const HIGH = /[\uD800-\uDBFF]$/;
const LOW = /^[\uDC00-\uDFFF]/;
const withoutSpace = (s: string): string => s.replace(/\s+/g, '');

// Text built from the pieces that matter to the chunker: words, sentence ends, spaces, single and
// double newlines, astral characters (surrogate pairs), and long runs with no whitespace at all.
const token = fc.oneof(
  fc.constantFrom('word', 'Redis', 'a', 'longerword', '😀', '𝔘𝔫𝔦', '日本語', 'é'),
  fc.constantFrom(' ', '  ', '\n', '\n\n', '\r\n\r\n', '\t', '. ', '! ', '? ', '." '),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.integer({ min: 1, max: 300 }).map((n) => '😀x'.repeat(n)),
);
const textArb = fc.array(token, { minLength: 1, maxLength: 400 }).map((parts) => parts.join(''));
const sizesArb = fc.integer({ min: 2, max: 120 }).chain((max) => fc.record({ max: fc.constant(max), target: fc.integer({ min: 1, max }) }));

test('chunking invariants hold for arbitrary text and sizes (property)', () => {
  fc.assert(
    fc.property(textArb, sizesArb, (text, { max, target }) => {
      const options = { chunkTargetChars: target, chunkMaxChars: max, maxChunksPerDocument: 1_000_000 };
      const chunks = chunkText(text, options);
      if (text.length > 0) assert.ok(chunks.length >= 1, 'at least one chunk for non-empty text');
      for (const chunk of chunks) {
        assert.ok(chunk.length > 0, 'no empty chunk');
        assert.ok(chunk.length <= max, `chunk of ${chunk.length} > max ${max}`);
        assert.ok(!HIGH.test(chunk) && !LOW.test(chunk), 'a cut never splits a surrogate pair');
      }
      // Only whitespace at cuts is dropped: every other character survives, in order.
      if (text.trim() !== '') assert.equal(withoutSpace(chunks.join('')), withoutSpace(text));
      assert.deepEqual(chunkText(text, options), chunks, 'deterministic');
    }),
    { seed, numRuns: 300 },
  );
});

test('default sizes: chunks stay within 1,200 chars and near the 800 target', () => {
  fc.assert(
    fc.property(fc.array(token, { minLength: 200, maxLength: 1500 }), (parts) => {
      const text = parts.join('');
      for (const chunk of chunkText(text)) assert.ok(chunk.length <= 1200, `chunk of ${chunk.length}`);
    }),
    { seed, numRuns: 40 },
  );
  const prose = Array.from({ length: 40 }, (_, i) => `Sentence number ${i} talks about PostgreSQL and Neo4j.`).join(' ');
  const chunks = chunkText(prose);
  assert.ok(chunks.length >= 2);
  for (const chunk of chunks.slice(0, -1)) {
    assert.ok(chunk.length >= 400 && chunk.length <= 1200, `chunk of ${chunk.length}`);
    assert.match(chunk, /\.$/, 'long paragraphs are cut after a sentence');
  }
});

test('paragraphs are packed whole while they fit the target', () => {
  const paragraphs = ['First paragraph.', 'Second paragraph.', 'Third paragraph.'];
  assert.deepEqual(chunkText(paragraphs.join('\n\n')), [paragraphs.join('\n\n')]);
  const p = 'p'.repeat(300);
  // 300 + 2 + 300 fits 800; a third would not.
  assert.deepEqual(chunkText([p, p, p].join('\n\n')), [`${p}\n\n${p}`, p]);
});

test('whitespace-only text still yields a chunk; empty text yields none', () => {
  assert.deepEqual(chunkText('  \n\n  '), ['  \n\n  ']);
  assert.deepEqual(chunkText(''), []);
});

test('a run without whitespace is cut at the maximum, never inside a surrogate pair', () => {
  const chunks = chunkText('😀'.repeat(1000)); // 2000 UTF-16 units
  assert.deepEqual(
    chunks.map((c) => c.length),
    [1200, 800],
  );
  const odd = chunkText(`x${'😀'.repeat(1000)}`);
  assert.deepEqual(
    odd.map((c) => c.length),
    [1199, 802],
  );
});

test('more chunks than the limit is a DocumentError naming field and limit', () => {
  const text = Array.from({ length: 10 }, (_, i) => `Paragraph ${i}.`).join('\n\n');
  assert.throws(
    () => chunkText(text, { chunkTargetChars: 5, chunkMaxChars: 20, maxChunksPerDocument: 4, source: 'a.md' }),
    (err: unknown) => err instanceof DocumentError && err.field === 'text' && err.message === 'text: at most 4 chunks at a.md',
  );
  assert.equal(chunkText(text, { chunkTargetChars: 5, chunkMaxChars: 20, maxChunksPerDocument: 10 }).length, 10);
});
