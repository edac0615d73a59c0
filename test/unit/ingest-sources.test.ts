import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readDocuments, markdownTitle, type SourceItem } from '../../src/ingest/sources.js';
import { idFromText } from '../../src/ingest/schema.js';

async function collect(inputs: string[], options: Parameters<typeof readDocuments>[1] = {}): Promise<SourceItem[]> {
  const items: SourceItem[] = [];
  for await (const item of readDocuments(inputs, options)) items.push(item);
  return items;
}

function errorsOf(items: SourceItem[]): Array<{ source: string; field: string; message: string; code: string }> {
  return items.flatMap((i) => (i.ok ? [] : [{ source: i.source, field: i.error.field, message: i.error.message, code: i.error.code }]));
}

function tempTree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'apex-sources-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

test('the sample corpus reads as ~300 valid documents with unique ids, in a stable order', async () => {
  const first = await collect(['examples/corpus']);
  assert.deepEqual(errorsOf(first), []);
  assert.ok(first.length >= 290 && first.length <= 320, `got ${first.length}`);
  const ids = first.map((i) => (i.ok ? i.doc.id : ''));
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.includes('databases/001-sqlite-and-logical-replication.md'), 'md ids are paths relative to the input root');
  const titles = new Set(first.map((i) => (i.ok ? i.doc.title : '')));
  for (const hostile of ["'); DROP TABLE documents; --", 'MATCH (n) DETACH DELETE n']) assert.ok(titles.has(hostile), hostile);
  const second = await collect(['examples/corpus']);
  assert.deepEqual(
    second.map((i) => i.source),
    first.map((i) => i.source),
  );
});

test('examples/bad: every invalid input is an error naming its field, and the stream goes on', async () => {
  const items = await collect(['examples/bad']);
  assert.deepEqual(
    items.map((i) => (i.ok ? `ok ${i.doc.id}` : `error ${i.error.field} ${i.source}`)),
    [
      'ok bad-1',
      'error line examples/bad/broken.jsonl:2',
      'error id examples/bad/broken.jsonl:3',
      'error metadata examples/bad/broken.jsonl:4',
      'ok bad-5',
      'error text examples/bad/empty.txt',
      'error text examples/bad/invalid-utf8.md',
      'error title examples/bad/long-title.md',
    ],
  );
  const messages = errorsOf(items).map((e) => e.message);
  assert.match(
    messages[1] ?? '',
    /^id: duplicate id "bad-1" \(first seen at examples\/bad\/broken\.jsonl:1\) at examples\/bad\/broken\.jsonl:3$/,
  );
  assert.equal(messages[2], 'metadata: depth at most 4 (got 5) at examples/bad/broken.jsonl:4');
  assert.equal(messages[4], 'text: invalid UTF-8 at examples/bad/invalid-utf8.md');
  assert.equal(messages[5], 'title: at most 512 characters (got 900) at examples/bad/long-title.md');
});

test('folders: recursive, sorted, dot-files and other extensions ignored; titles from heading or file name', async () => {
  const dir = tempTree({
    'b.md': 'No heading here.\n',
    'a.txt': '# Not a title in .txt\n\nplain',
    'sub/z.md': '```\n# in a fence\n```\n\n## Second level\n\n# Real Title #\n\ntext',
    'sub/.hidden.md': '# hidden',
    '.git/c.md': '# inside a dot-folder',
    'image.png': 'not a document',
    README: 'no extension',
  });
  try {
    const items = await collect([dir]);
    assert.deepEqual(errorsOf(items), []);
    assert.deepEqual(
      items.map((i) => (i.ok ? [i.doc.id, i.doc.title] : [])),
      [
        ['a.txt', 'a.txt'],
        ['b.md', 'b.md'],
        ['sub/z.md', 'Real Title'],
      ],
    );
    // A file given directly is the child of its own folder.
    const direct = await collect([join(dir, 'sub', 'z.md')]);
    assert.equal(direct[0]?.ok && direct[0].doc.id, 'z.md');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('missing paths and unsupported files are DOC_SOURCE errors; later inputs are still read', async () => {
  const dir = tempTree({ 'ok.md': '# Fine\n\nbody', 'data.csv': 'a,b' });
  try {
    const items = await collect([join(dir, 'missing.md'), join(dir, 'data.csv'), dir]);
    const errors = errorsOf(items);
    assert.deepEqual(
      errors.map((e) => [e.code, e.field]),
      [
        ['DOC_SOURCE', 'path'],
        ['DOC_SOURCE', 'path'],
      ],
    );
    assert.match(errors[0]?.message ?? '', /not found/);
    assert.match(errors[1]?.message ?? '', /unsupported file type/);
    assert.equal(items.filter((i) => i.ok).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('JSONL: CRLF and blank lines, derived ids, too-long lines, bad UTF-8 and cross-source duplicates', async () => {
  const good = (id: string | undefined, text: string): string => JSON.stringify({ ...(id ? { id } : {}), title: 'T', text });
  const dir = tempTree({
    'a.md': '# A\n\nbody',
    'docs.jsonl': Buffer.concat([
      Buffer.from(`${good('one', 'first')}\r\n\r\n${good(undefined, 'no id here')}\n`),
      Buffer.from(`${good('long', 'x'.repeat(500))}\n`),
      Buffer.from('{"id":"bytes","title":"T","text":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}\n'),
      Buffer.from(`${good('a.md', 'same id as the markdown file')}\n`),
      Buffer.from(`${good('last', 'no trailing newline')}`),
    ]),
  });
  try {
    const items = await collect([dir], { limits: { maxJsonlLineBytes: 200 } });
    assert.deepEqual(
      items.map((i) => (i.ok ? `ok ${i.doc.id} ${i.source}` : `error ${i.error.field} ${i.source}`)),
      [
        `ok a.md ${dir}/a.md`,
        `ok one ${dir}/docs.jsonl:1`,
        `ok ${idFromText('no id here')} ${dir}/docs.jsonl:3`,
        `error line ${dir}/docs.jsonl:4`,
        `error line ${dir}/docs.jsonl:5`,
        `error id ${dir}/docs.jsonl:6`,
        `ok last ${dir}/docs.jsonl:7`,
      ],
    );
    const errors = errorsOf(items);
    assert.match(errors[0]?.message ?? '', /^line: at most 200 bytes \(got \d+\)/);
    assert.match(errors[1]?.message ?? '', /^line: invalid UTF-8/);
    assert.match(errors[2]?.message ?? '', new RegExp(`first seen at ${dir}/a\\.md`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file over the text limit is rejected from its size, without decoding it', async () => {
  const dir = tempTree({ 'big.txt': 'y'.repeat(5000), 'small.txt': 'fits' });
  try {
    const items = await collect([dir], { limits: { maxTextBytes: 4096 } });
    assert.deepEqual(
      errorsOf(items).map((e) => e.message),
      [`text: at most 4096 bytes (UTF-8) (got 5000) at ${join(dir, 'big.txt')}`],
    );
    assert.equal(items.filter((i) => i.ok).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('stdin: JSONL split across chunks at any byte, including inside a multi-byte character', async () => {
  const jsonl = `${JSON.stringify({ id: 's1', title: 'Ünïcödé 🚀', text: 'first' })}\n${JSON.stringify({ title: 'T', text: 'second' })}\nnot json\n`;
  const bytes = Buffer.from(jsonl);
  const pieces = [];
  for (let i = 0; i < bytes.length; i += 7) pieces.push(bytes.subarray(i, i + 7));
  const items = await collect(['-'], { stdin: Readable.from(pieces) });
  assert.deepEqual(
    items.map((i) => (i.ok ? `ok ${i.doc.id} ${i.doc.title} ${i.source}` : `error ${i.error.field} ${i.source}`)),
    ['ok s1 Ünïcödé 🚀 stdin:1', `ok ${idFromText('second')} T stdin:2`, 'error line stdin:3'],
  );
});

test('stdin: a byte order mark and leading blank chunks do not hide JSONL', async () => {
  const line = JSON.stringify({ id: 'bom', title: 'T', text: 'x' });
  const items = await collect(['-'], {
    stdin: Readable.from([Buffer.from([0xef, 0xbb, 0xbf, 0x0a]), Buffer.from('  \n'), Buffer.from(line)]),
  });
  assert.deepEqual(
    items.map((i) => (i.ok ? i.doc.id : i.error.message)),
    ['bom'],
  );
});

test('stdin: text that is not JSON is one document titled by its heading or first line', async () => {
  const withHeading = await collect(['-'], { stdin: Readable.from([Buffer.from('\n\n# Piped Note\n\nBody text.')]) });
  assert.equal(withHeading[0]?.ok && withHeading[0].doc.title, 'Piped Note');
  assert.equal(withHeading[0]?.ok && withHeading[0].doc.id, idFromText('\n\n# Piped Note\n\nBody text.'));
  const plain = await collect(['-'], { stdin: Readable.from(['  first line here\nsecond']) });
  assert.equal(plain[0]?.ok && plain[0].doc.title, 'first line here');
  const empty = await collect(['-'], { stdin: Readable.from([]) });
  assert.equal(empty[0]?.ok, false);
  assert.equal(!empty[0]?.ok && empty[0]?.error.field, 'text');
  const big = await collect(['-'], { stdin: Readable.from([Buffer.alloc(3000, 0x61)]), limits: { maxTextBytes: 1000 } });
  assert.equal(!big[0]?.ok && big[0]?.error.message, 'text: at most 1000 bytes (UTF-8) (got 3000) at stdin');
});

test('markdownTitle takes the first level-1 heading outside code fences', () => {
  assert.equal(markdownTitle('intro\n# Title\n# Second'), 'Title');
  assert.equal(markdownTitle('## only level two'), undefined);
  assert.equal(markdownTitle('#NoSpace'), undefined);
  assert.equal(markdownTitle('~~~\n# code\n~~~\n#   Spaced   ##\r\n'), 'Spaced');
});
