// Hostile inputs for the CLI fuzz test (reliability-fuzz-cli.test.ts), each generated together
// with what the CLI must do with it: written (and read back with this id and title) or rejected
// naming this field (and this limit). The expectation comes from how the input was built, not
// from the validator under test.
import fc from 'fast-check';
import {
  MAX_ID_CHARS,
  MAX_METADATA_BYTES,
  MAX_METADATA_DEPTH,
  MAX_METADATA_KEYS,
  MAX_TEXT_BYTES,
  MAX_TITLE_CHARS,
} from '../../src/ingest/limits.js';

export type Expect =
  | { ok: true; id: string; title: string }
  /** `field` exact, or a prefix when it ends with "." (metadata.<hostile key>). */
  | { ok: false; field: string; limit?: string };

/** Strings that must be stored and read back verbatim (no control characters, no '#', trimmed). */
export const INJECTIONS = [
  "'; DROP TABLE documents; --",
  'MATCH (n) DETACH DELETE n',
  '{"$where": "1"}',
  '<script>alert(1)</script>',
  '${process.exit()}',
  'apex:doc:*',
  '\u202e\u200bRTL',
  "Robert'); DELETE FROM chunks;--",
  '$(rm -rf ~)',
  '%00%0a%1b',
];
/** Control characters that must never reach a store or a terminal unescaped. */
export const CONTROLS = ['\u0000', '\u0001', '\u0007', '\u001b', '\u001b[2J', '\u007f', '\u0085', '\n', '\r', '\t'];
/** Same, without NUL: file names and command-line arguments cannot hold one. */
export const CONTROLS_NO_NUL = CONTROLS.filter((c) => c !== '\u0000');

const injection = fc.constantFrom(...INJECTIONS);
const control = fc.constantFrom(...CONTROLS);
const lorem = fc.lorem({ maxCount: 20 }).map((t) => `Text ${t}`);
/** At least one 0xff: never valid UTF-8; no 0x0a: one JSONL line stays one line. */
const invalidUtf8 = fc
  .uint8Array({ maxLength: 200 })
  .map((b) => Buffer.concat([Buffer.from(b.filter((x) => x !== 0x0a)), Buffer.from([0xff])]));
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** One JSONL line (bytes, without the newline) and what must happen to it; `n` makes ids unique. */
export type LineSpec = { bytes: Buffer; expect: Expect | 'blank' };

export function lineArb(prefix: string): fc.Arbitrary<(n: number) => LineSpec> {
  const json = (o: unknown): Buffer => Buffer.from(JSON.stringify(o), 'utf8');
  const rejected = (field: string, limit?: string): Expect => (limit === undefined ? { ok: false, field } : { ok: false, field, limit });
  return fc.oneof(
    fc
      .record({ title: injection, text: lorem, tail: injection, key: injection, value: fc.jsonValue({ maxDepth: 2 }) })
      .map(({ title, text, tail, key, value }) => (n: number): LineSpec => {
        const id = `${prefix}${n} ${title}`;
        return { bytes: json({ id, title, text: `${text} ${tail}`, metadata: { [key]: value ?? null } }), expect: { ok: true, id, title } };
      }),
    control.map(
      (c) =>
        (n: number): LineSpec => ({ bytes: json({ id: `${prefix}${n}${c}`, title: 't', text: 'x' }), expect: rejected('id') }),
    ),
    fc.integer({ min: MAX_ID_CHARS + 1, max: MAX_ID_CHARS + 50 }).map(
      (len) =>
        (n: number): LineSpec => ({
          bytes: json({ id: `${prefix}${n}`.padEnd(len, 'i'), title: 't', text: 'x' }),
          expect: rejected('id', `at most ${MAX_ID_CHARS} characters`),
        }),
    ),
    fc.constant((n: number): LineSpec => ({ bytes: json({ id: ` ${prefix}${n}`, title: 't', text: 'x' }), expect: rejected('id') })),
    control.map(
      (c) =>
        (n: number): LineSpec => ({ bytes: json({ id: `${prefix}${n}`, title: `a${c}b`, text: 'x' }), expect: rejected('title') }),
    ),
    fc.integer({ min: MAX_TITLE_CHARS + 1, max: MAX_TITLE_CHARS + 100 }).map(
      (len) =>
        (n: number): LineSpec => ({
          bytes: json({ id: `${prefix}${n}`, title: 'T'.repeat(len), text: 'x' }),
          expect: rejected('title', `at most ${MAX_TITLE_CHARS} characters`),
        }),
    ),
    fc.constantFrom('', '   ', '\u3000').map(
      (t) =>
        (n: number): LineSpec => ({ bytes: json({ id: `${prefix}${n}`, title: t, text: 'x' }), expect: rejected('title') }),
    ),
    fc.constantFrom(5, null, ['t'], { t: 1 }).map(
      (t) =>
        (n: number): LineSpec => ({ bytes: json({ id: `${prefix}${n}`, title: t, text: 'x' }), expect: rejected('title') }),
    ),
    lorem.map(
      (t) =>
        (n: number): LineSpec => ({ bytes: json({ id: `${prefix}${n}`, title: 't', text: `${t}\u0000` }), expect: rejected('text') }),
    ),
    fc.integer({ min: MAX_METADATA_DEPTH + 1, max: 20_000 }).map(
      (d) =>
        (n: number): LineSpec => ({
          bytes: Buffer.from(`{"id":${JSON.stringify(`${prefix}${n}`)},"title":"t","text":"x","metadata":{"a":${nested(d - 1)}}}`, 'utf8'),
          expect: rejected('metadata', `depth at most ${MAX_METADATA_DEPTH}`),
        }),
    ),
    fc.constant(
      (n: number): LineSpec => ({
        bytes: json({ id: `${prefix}${n}`, title: 't', text: 'x', metadata: { 'k\u0000': 1 } }),
        expect: rejected('metadata.'),
      }),
    ),
    fc.integer({ min: MAX_METADATA_KEYS + 1, max: MAX_METADATA_KEYS + 40 }).map(
      (k) =>
        (n: number): LineSpec => ({
          bytes: json({
            id: `${prefix}${n}`,
            title: 't',
            text: 'x',
            metadata: Object.fromEntries(Array.from({ length: k }, (_, i) => [`k${i}`, i])),
          }),
          expect: rejected('metadata', `at most ${MAX_METADATA_KEYS} keys per object`),
        }),
    ),
    fc.constant(
      (n: number): LineSpec => ({
        bytes: json({ id: `${prefix}${n}`, title: 't', text: 'x', metadata: { big: 'm'.repeat(MAX_METADATA_BYTES) } }),
        expect: rejected('metadata', `at most ${MAX_METADATA_BYTES} bytes serialized`),
      }),
    ),
    fc.constantFrom('body', '__proto__', 'constructor').map(
      (k) =>
        (n: number): LineSpec => ({
          bytes: Buffer.from(`{"id":${JSON.stringify(`${prefix}${n}`)},"title":"t","text":"x",${JSON.stringify(k)}:1}`),
          expect: rejected(k),
        }),
    ),
    fc
      .constantFrom('[1,2]', '42', '"doc"', 'null', 'true')
      .map((raw) => (): LineSpec => ({ bytes: Buffer.from(raw), expect: rejected('document') })),
    fc
      .constantFrom('{bad', '{"id":', '{"title":"t","text":"x"', "{'a':1}", '{"a":1}}')
      .map((raw) => (): LineSpec => ({ bytes: Buffer.from(raw), expect: rejected('line') })),
    invalidUtf8.map((b) => (): LineSpec => ({ bytes: b, expect: rejected('line') })),
    fc.constantFrom('', '   ', '\t').map((raw) => (): LineSpec => ({ bytes: Buffer.from(raw), expect: 'blank' })),
  );
}

/** One file of an `ingest <dir>` run. Files are named `<i>-<name>` so names never collide; a '/'
 * in a name is a sub-folder. */
export type FileSpec =
  | { kind: 'md' | 'txt'; name: string; title: string; text: string }
  | { kind: 'bytes'; name: string; bytes: Buffer; field: string; limit?: string }
  | { kind: 'huge'; name: string; size: number }
  | { kind: 'skipped'; name: string }
  | { kind: 'jsonl'; name: string; lines: Array<(n: number) => LineSpec> };

const safeName = injection.map((s) => s.replace(/[/\\]/g, '_').replace(/^\.+/, '_').trim());

export function fileArb(prefix: string): fc.Arbitrary<FileSpec> {
  return fc.oneof(
    fc
      .record({ name: safeName, title: injection, text: lorem })
      .map((r): FileSpec => ({ kind: 'md', name: `${r.name}.md`, title: r.title, text: r.text })),
    fc.record({ name: safeName, text: lorem }).map((r): FileSpec => ({ kind: 'txt', name: `${r.name}.txt`, title: '', text: r.text })),
    // A control character in the name: the id (the relative path) is refused.
    fc
      .record({ c: fc.constantFrom(...CONTROLS_NO_NUL), text: lorem })
      .map(({ c, text }): FileSpec => ({ kind: 'bytes', name: `n${c}me.md`, bytes: Buffer.from(`# T\n${text}`), field: 'id' })),
    // A path so long that the id (the relative path) passes the id limit; a file name itself is
    // at most 255 bytes, so a sub-folder makes up the rest.
    fc.constant<FileSpec>({
      kind: 'bytes',
      name: `${'D'.repeat(40)}/${'L'.repeat(MAX_ID_CHARS - 40)}.md`,
      bytes: Buffer.from('# T\nlong'),
      field: 'id',
      limit: `at most ${MAX_ID_CHARS} characters`,
    }),
    invalidUtf8.map((b): FileSpec => ({ kind: 'bytes', name: 'bytes.txt', bytes: b, field: 'text' })),
    lorem.map((t): FileSpec => ({ kind: 'bytes', name: 'nul.md', bytes: Buffer.from(`# T\n${t}\u0000`), field: 'text' })),
    fc.constantFrom('', ' \n\t\n').map((t): FileSpec => ({ kind: 'bytes', name: 'blank.txt', bytes: Buffer.from(t), field: 'text' })),
    fc.constantFrom(1, 4096).map((extra): FileSpec => ({ kind: 'huge', name: 'huge.txt', size: MAX_TEXT_BYTES + extra })),
    fc.constantFrom('a.pdf', 'b.exe', '.hidden.md', 'noext').map((name): FileSpec => ({ kind: 'skipped', name })),
    fc.array(lineArb(prefix), { minLength: 1, maxLength: 10 }).map((lines): FileSpec => ({ kind: 'jsonl', name: 'docs.jsonl', lines })),
  );
}

export const MAX_TEXT = MAX_TEXT_BYTES;
