import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { validateDocument, idFromText } from '../../src/ingest/schema.js';
import { DocumentError } from '../../src/ingest/errors.js';
import { DEFAULT_LIMITS, resolveLimits } from '../../src/ingest/limits.js';

function rejection(raw: unknown, options: Parameters<typeof validateDocument>[1] = {}): DocumentError {
  try {
    validateDocument(raw, options);
  } catch (err) {
    assert.ok(err instanceof DocumentError, `expected DocumentError, got ${String(err)}`);
    assert.equal(err.code, 'DOC_INVALID');
    return err;
  }
  assert.fail(`expected ${JSON.stringify(raw).slice(0, 80)} to be rejected`);
}

test('a minimal document gets a sha256-prefix id, a trimmed title and empty metadata', () => {
  const doc = validateDocument({ title: '  Hello  ', text: 'Some text.' });
  const sha = createHash('sha256').update('Some text.').digest('hex');
  assert.equal(doc.id, sha.slice(0, 32));
  assert.equal(doc.id, idFromText('Some text.'));
  assert.equal(doc.title, 'Hello');
  assert.equal(doc.text, 'Some text.');
  assert.deepEqual(doc.metadata, {});
});

test('an explicit id wins over defaultId, which wins over the text hash', () => {
  assert.equal(validateDocument({ id: 'mine', title: 't', text: 'x' }, { defaultId: 'path/a.md' }).id, 'mine');
  assert.equal(validateDocument({ title: 't', text: 'x' }, { defaultId: 'path/a.md' }).id, 'path/a.md');
});

test('the message names field, limit, measured value and source', () => {
  const err = rejection({ title: 'T'.repeat(900), text: 'x' }, { source: 'docs.jsonl:17' });
  assert.equal(err.message, 'title: at most 512 characters (got 900) at docs.jsonl:17');
  assert.equal(err.field, 'title');
  assert.equal(err.limit, 'at most 512 characters');
  assert.equal(err.got, 900);
  assert.equal(err.source, 'docs.jsonl:17');
});

test('every limit error names its field and its limit', () => {
  const cases: Array<{ raw: unknown; field: string; limit: string }> = [
    { raw: { id: 'i'.repeat(257), title: 't', text: 'x' }, field: 'id', limit: 'at most 256 characters' },
    { raw: { title: 't'.repeat(513), text: 'x' }, field: 'title', limit: 'at most 512 characters' },
    { raw: { title: 't', text: 'a'.repeat(DEFAULT_LIMITS.maxTextBytes + 1) }, field: 'text', limit: 'at most 1048576 bytes (UTF-8)' },
    // The metadata object is depth 1; five nested objects are depth 5.
    { raw: { title: 't', text: 'x', metadata: { a: { b: { c: { d: {} } } } } }, field: 'metadata', limit: 'depth at most 4' },
    {
      raw: { title: 't', text: 'x', metadata: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) },
      field: 'metadata',
      limit: 'at most 64 keys per object',
    },
    {
      raw: { title: 't', text: 'x', metadata: { nested: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, i])) } },
      field: 'metadata.nested',
      limit: 'at most 64 keys per object',
    },
    {
      raw: { title: 't', text: 'x', metadata: { blob: 'b'.repeat(17 * 1024) } },
      field: 'metadata',
      limit: 'at most 16384 bytes serialized',
    },
  ];
  for (const c of cases) {
    const err = rejection(c.raw, { source: 'in.jsonl:1' });
    assert.equal(err.field, c.field, err.message);
    assert.equal(err.limit, c.limit, err.message);
    assert.ok(err.message.startsWith(`${c.field}: ${c.limit}`), err.message);
    assert.ok(err.message.endsWith(' at in.jsonl:1'), err.message);
  }
});

test('limits sit exactly at the boundary: the maximum passes, one more fails', () => {
  validateDocument({ id: 'i'.repeat(256), title: 't'.repeat(512), text: 'x' });
  validateDocument({ title: 't', text: 'x', metadata: { a: { b: { c: { d: 'leaf' } } } } }); // four objects: depth 4
  validateDocument({ title: 't', text: 'x', metadata: { a: [[1]] } }); // arrays count too: depth 4
  validateDocument({ title: 't', text: 'x', metadata: Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`k${i}`, i])) });
  assert.equal(rejection({ title: 't', text: 'x', metadata: { a: { b: { c: { d: {} } } } } }).got, 5);
  assert.equal(rejection({ title: 't', text: 'x', metadata: { a: [[[[1]]]] } }).field, 'metadata', 'arrays count as depth');
});

test('characters are counted as code points, bytes as UTF-8', () => {
  validateDocument({ title: '😀'.repeat(512), text: 'x' }); // 1024 UTF-16 units, 512 characters
  const err = rejection({ title: 't', text: 'éééééé' }, { limits: { maxTextBytes: 11 } });
  assert.equal(err.got, 12);
  assert.equal(err.message, 'text: at most 11 bytes (UTF-8) (got 12)');
});

test('limits can be overridden per call', () => {
  const err = rejection({ title: 'twelve chars', text: 'x' }, { limits: { maxTitleChars: 10 } });
  assert.equal(err.limit, 'at most 10 characters');
  assert.throws(() => resolveLimits({ maxTitleChars: 0 }), RangeError);
  assert.throws(() => resolveLimits({ chunkTargetChars: 2000, chunkMaxChars: 1000 }), RangeError);
  assert.throws(() => resolveLimits({ nope: 1 } as never), RangeError);
});

test('non-limit problems name the field and the reason', () => {
  const cases: Array<{ raw: unknown; field: string; reason: RegExp }> = [
    { raw: { title: 't', text: '   \n\t ' }, field: 'text', reason: /must not be empty/ },
    { raw: { title: 't', text: '' }, field: 'text', reason: /must not be empty/ },
    { raw: { title: '   ', text: 'x' }, field: 'title', reason: /must not be empty/ },
    { raw: { id: '', title: 't', text: 'x' }, field: 'id', reason: /must not be empty/ },
    { raw: { id: 'a\u0007b', title: 't', text: 'x' }, field: 'id', reason: /control characters/ },
    { raw: { id: ' padded', title: 't', text: 'x' }, field: 'id', reason: /whitespace/ },
    { raw: { title: 'line\nbreak', text: 'x' }, field: 'title', reason: /control characters/ },
    { raw: { title: 't', text: 'a\u0000b' }, field: 'text', reason: /NUL/ },
    { raw: { title: 't', text: 'lone \uD800 surrogate' }, field: 'text', reason: /unpaired surrogate/ },
    { raw: { title: 't', text: 'x', metadata: { k: 'a\u0000' } }, field: 'metadata.k', reason: /NUL/ },
    { raw: { title: 't', text: 'x', metadata: { n: Number.NaN } }, field: 'metadata.n', reason: /finite/ },
    { raw: { title: 't', text: 'x', metadata: { d: new Date(0) } }, field: 'metadata.d', reason: /must be JSON/ },
    { raw: { title: 't', text: 'x', metadata: [1, 2] }, field: 'metadata', reason: /./ },
    { raw: { title: 't', text: 'x', body: 'typo' }, field: 'body', reason: /unknown field/ },
    { raw: { text: 'x' }, field: 'title', reason: /is required/ },
    { raw: { title: 't', text: 42 }, field: 'text', reason: /expected string/ },
    { raw: 'just a string', field: 'document', reason: /JSON object/ },
    { raw: null, field: 'document', reason: /JSON object/ },
  ];
  for (const c of cases) {
    const err = rejection(c.raw);
    assert.equal(err.field, c.field, `${JSON.stringify(c.raw)} -> ${err.message}`);
    assert.match(err.reason ?? '', c.reason, err.message);
    assert.ok(err.message.startsWith(`${c.field}: `), err.message);
  }
});

test('hostile but valid titles and ids pass unchanged', () => {
  for (const title of ["'); DROP TABLE documents; --", 'MATCH (n) DETACH DELETE n', 'Back\\slash "quotes"', 'Emoji 🚀 👩‍💻 🇩🇪']) {
    assert.equal(validateDocument({ id: title, title, text: 'x' }).title, title);
  }
});
