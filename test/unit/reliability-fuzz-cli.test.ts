// Hostile input through the CLI's real entry point (fast-check, embedded profile in a temp data
// dir). Most cases call main() in this process (no process start, no tsx compile); a handful run
// the real bin/apex-memory.mjs as a subprocess. Inputs: folders of files with random bytes
// (invalid UTF-8), files past the 1 MiB limit, control characters and injection strings in file
// names, titles, JSONL ids and metadata, metadata nested up to 20,000 deep, random JSONL lines
// (also on stdin); hostile ids for get, delete and sagas show/retry/cancel; bad flag values.
// Expected: each bad input is rejected naming its field (and the limit it broke), the exit code is
// as documented (0, 1 or 2), errors are one coded line without a stack and with control
// characters escaped, the process never throws, and afterwards the stores hold exactly the valid
// documents (ids and titles verbatim) and verify reports 0. Replay with FUZZ_SEED=<seed>;
// FUZZ_RUNS or RELIABILITY_SCALE for more ingest runs. Figures: test-artifacts/reliability/fuzz-cli.json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';
import { CONTROLS, INJECTIONS, fileArb, lineArb, type Expect } from './reliability-fuzz-cli-inputs.js';
import {
  RAW_CONTROL,
  assertCleanErrors,
  checkIngest,
  cli,
  jsonlExpectations,
  nextRun,
  stored,
  subprocess,
  tally,
  useContext,
  writeRun,
} from './reliability-fuzz-cli-harness.js';
import { allSagas } from '../support/log-pages.js';

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const scale = reliabilityScale();
const INGEST_RUNS = Number(process.env.FUZZ_RUNS ?? Math.round(6 * scale));
const FAST_RUNS = Math.round(150 * scale);
// The in-process CLI reads the environment: no server URL from the caller's shell may leak in.
for (const k of ['DATABASE_URL', 'NEO4J_URL', 'QDRANT_URL', 'REDIS_URL', 'SAGA_LOG_URL', 'APEX_DATA_DIR', 'EMBEDDER', 'APEX_SAGA_LOG_SYNC'])
  delete process.env[k];

let dir: string;
let dataDir: string;

before(() => {
  console.log(`cli fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${INGEST_RUNS}`);
  dir = mkdtempSync(join(tmpdir(), 'apex-fuzz-cli-'));
  dataDir = join(dir, 'data');
  useContext({ dir, dataDir });
});
after(() => {
  writeResult('fuzz-cli', { seed, ...tally });
  rmSync(dir, { recursive: true, force: true });
});

test(
  'ingest <dir> with hostile files and JSONL lines: each bad input rejected naming its field and limit, the rest written',
  { timeout: 600_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fileArb('j'), { minLength: 1, maxLength: 12 }), async (files) => {
        const { root, expected } = writeRun(files);
        const r = await cli(['ingest', root, '--json', '--no-progress', '-c', '4']);
        tally.ingestRuns++;
        checkIngest(r, expected, `ingest of ${root}`);
      }),
      { seed, numRuns: INGEST_RUNS },
    );
  },
);

test(
  'a JSONL line past the 8 MiB line limit is rejected without being buffered; the lines around it are written',
  { timeout: 60_000 },
  async () => {
    const run = nextRun();
    const path = join(dir, `long${run}.jsonl`);
    const good = (n: number): string =>
      JSON.stringify({ id: `long-${run}-${n}`, title: `Around ${n}`, text: 'Text around the long line.' });
    writeFileSync(path, `${good(1)}\n{"id":"x","title":"t","text":"${'a'.repeat(8 * 1024 * 1024)}"}\n${good(2)}\n`);
    const expected = new Map<string, Expect>([
      [`${path}:1`, { ok: true, id: `long-${run}-1`, title: 'Around 1' }],
      [`${path}:2`, { ok: false, field: 'line', limit: `at most ${8 * 1024 * 1024} bytes` }],
      [`${path}:3`, { ok: true, id: `long-${run}-2`, title: 'Around 2' }],
    ]);
    checkIngest(await cli(['ingest', path, '--json', '--no-progress']), expected, 'long line');
  },
);

const hostileId = fc.oneof(
  fc
    .tuple(fc.string({ maxLength: 20 }), fc.constantFrom(...CONTROLS), fc.string({ maxLength: 20 }))
    .map(([a, c, b]) => ({ id: `${a}${c}${b}`, reason: /control characters/ })),
  fc.constant({ id: '', reason: /must not be empty/ }),
  fc.integer({ min: 257, max: 5_000 }).map((n) => ({ id: 'i'.repeat(n), reason: /at most (256|200) characters/ })),
);
const ID_COMMANDS = [['get'], ['delete'], ['sagas', 'show'], ['sagas', 'retry'], ['sagas', 'cancel']] as const;

test(
  'get, delete, sagas show/retry/cancel with hostile ids: exit 2 naming the argument, before any store opens',
  { timeout: 60_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ID_COMMANDS), hostileId, fc.boolean(), async (cmd, { id, reason }, json) => {
        // After "--": an id that starts with "-" is an id, not an option.
        const r = await cli([...cmd, ...(json ? ['--json'] : []), '--', id]);
        tally.hostileIds++;
        const label = `${cmd.join(' ')} ${JSON.stringify(id.slice(0, 60))}`;
        assert.equal(r.code, 2, `${label}: ${r.err}`);
        assert.equal(r.out, '', `${label}: nothing on stdout`);
        assert.match(r.err, /argument 'id'/, label);
        assert.match(r.err, reason, label);
        assertCleanErrors(r, label);
      }),
      { seed: seed + 1, numRuns: FAST_RUNS },
    );
  },
);

/** Flags with their command and a way to tell that a value is bad (so that no drawn value runs). */
const FLAGS = [
  { args: ['ingest', 'x'], flag: '--concurrency', int: true },
  { args: ['ingest', 'x'], flag: '--plan', allowed: ['default', 'adr'] },
  { args: ['sagas', 'list'], flag: '--limit', int: true },
  { args: ['sagas', 'list'], flag: '--status', allowed: ['pending', 'running', 'compensating', 'completed', 'compensated', 'stuck'] },
  { args: ['sagas', 'recover'], flag: '--batch', int: true },
  { args: ['sagas', 'prune'], flag: '--max', int: true },
  { args: ['search', 'x'], flag: '--limit', int: true },
  { args: ['worker'], flag: '--lease-ms', int: true },
  { args: ['serve'], flag: '--port', int: true, zeroOk: true },
  { args: ['serve'], flag: '--mode', allowed: ['run', 'enqueue'] },
] as const;
const badValue = fc.oneof(
  fc.constantFrom('0', '-1', 'abc', '1e3', '1.5', '', '0x10', 'NaN', 'Infinity', '99999999999999999999', '1_000'),
  fc.constantFrom(...INJECTIONS),
  fc.tuple(fc.string({ maxLength: 10 }), fc.constantFrom(...CONTROLS)).map(([a, c]) => `${a}${c}`),
);

test(
  'bad flag values, unknown options and commands: exit 2 naming the option, control characters escaped',
  { timeout: 60_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...FLAGS), badValue, async (f, value) => {
        // A value that happens to be valid would run the command (serve and worker never end).
        fc.pre(
          'allowed' in f
            ? !(f.allowed as readonly string[]).includes(value)
            : !/^\s*\d+\s*$/.test(value) || (Number(value) === 0 && !('zeroOk' in f)),
        );
        const r = await cli([...f.args, `${f.flag}=${value}`]);
        tally.badFlags++;
        const label = `${f.args.join(' ')} ${f.flag}=${JSON.stringify(value)}`;
        assert.equal(r.code, 2, `${label}: ${r.err}`);
        assert.match(r.err, new RegExp(`option '[^']*${f.flag}`), label);
        assertCleanErrors(r, label);
      }),
      { seed: seed + 2, numRuns: FAST_RUNS },
    );
    for (const args of [['get'], ['get', 'a', 'b'], ['get', 'a', '--bogus'], ['bogus-command'], ['sagas'], ['ingest']]) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assertCleanErrors(r, args.join(' '));
    }
  },
);

test(
  'ids that pass the check but name nothing: a coded one-line error (or absent for delete), nothing written',
  { timeout: 120_000 },
  async () => {
    const [id] = fc.sample(fc.constantFrom(...INJECTIONS), { seed: seed + 3, numRuns: 1 });
    // Each opens the embedded stores (seconds): three commands, not all five.
    const expectCode = { get: 1, delete: 0, retry: 1 } as const;
    for (const cmd of [['get'], ['delete'], ['sagas', 'retry']] as const) {
      const r = await cli([...cmd, '--', id ?? 'x']);
      const label = `${cmd.join(' ')} ${JSON.stringify(id)}`;
      assert.equal(r.code, expectCode[cmd[cmd.length - 1] as keyof typeof expectCode], `${label}: ${r.err}`);
      assertCleanErrors(r, label);
      if (r.code === 1)
        assert.match(
          r.err.trimEnd().split('\n').at(-1) ?? '',
          /^apex-memory: (error|not found) \[(CLI_NOT_FOUND|SAGA_NOT_FOUND)\]: .+$/,
          label,
        );
    }
  },
);

test(
  'subprocesses: `ingest -` with random JSONL lines on stdin, hostile ids and flags, a control character in a file name',
  { timeout: 300_000 },
  async () => {
    const [lines] = fc.sample(fc.array(lineArb('stdin'), { minLength: 3, maxLength: 15 }), { seed: seed + 4, numRuns: 1 });
    const j = jsonlExpectations(lines ?? [], (k) => `stdin:${k}`);
    // A first line that is not JSON would make stdin one text document: start with a valid one.
    const first = {
      bytes: Buffer.from(`${JSON.stringify({ id: `stdin-first-${seed}`, title: 'First', text: 'First line on stdin.' })}\n`),
      source: 'stdin:1',
    };
    const shifted = new Map([...j.expected].map(([k, v]) => [`stdin:${Number(k.slice(6)) + 1}`, v]));
    shifted.set(first.source, { ok: true, id: `stdin-first-${seed}`, title: 'First' });
    checkIngest(subprocess(['ingest', '-', '--json', '--no-progress'], Buffer.concat([first.bytes, j.bytes])), shifted, 'stdin');

    for (const [args, code, pattern] of [
      [['get', '\u001b[2J\u001b]0;pwned\u0007'], 2, /argument 'id'.*control characters/],
      [['sagas', 'show', 'x'.repeat(201)], 2, /at most 200 characters/],
      [['ingest', '-c', 'abc', 'x'], 2, /option '-c, --concurrency <n>' argument 'abc' is invalid/],
      [['no-such-command'], 2, /unknown command/],
    ] as const) {
      const r = subprocess([...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, pattern);
      assertCleanErrors(r, args.join(' '));
    }

    // Regression: the data dir held by another process is an expected refusal (DATA_DIR_LOCKED):
    // one coded line, exit 1; it used to print a stack trace like a bug.
    const holder = await openApp({ dataDir, env: {}, embedder: new HashingEmbedder() });
    try {
      const locked = subprocess(['get', 'x']);
      assert.equal(locked.code, 1, locked.err);
      assert.match(locked.err, /^apex-memory: error \[DATA_DIR_LOCKED\]: [^\n]+\n$/);
      assertCleanErrors(locked, 'locked data dir');
    } finally {
      await holder.close();
    }

    // Human output: a file name with an escape sequence is listed escaped, never raw.
    const folder = join(dir, 'human');
    mkdirSync(folder);
    writeFileSync(join(folder, 'bad\u001b[2Jname.md'), '# Bad\nname');
    writeFileSync(join(folder, 'bytes.txt'), Buffer.from([0x41, 0xff, 0xfe]));
    const r = subprocess(['ingest', folder, '--no-progress']);
    assert.equal(r.code, 1, r.out + r.err);
    assert.doesNotMatch(r.out, RAW_CONTROL, `a raw control character on stdout: ${JSON.stringify(r.out.slice(0, 800))}`);
    assert.match(r.out, /id: must not contain control characters/);
    assert.match(r.out, /text: invalid UTF-8/);
    assert.match(r.out, /rejected\s+2\n/);
    assertCleanErrors(r, 'human ingest');
  },
);

test(
  'afterwards: the stores hold exactly the valid documents (ids and titles verbatim), no saga failed, verify 0',
  { timeout: 120_000 },
  async () => {
    const app = await openApp({ dataDir, env: {}, embedder: new HashingEmbedder() });
    try {
      const rows = await app.stores.postgres.listDocuments(null, 100_000);
      assert.deepEqual(
        rows.filter((d) => d.ingestionStatus !== 'committed').map((d) => d.id),
        [],
        'every row committed',
      );
      const want = [...stored.keys()].sort();
      assert.deepEqual(rows.map((d) => d.id).sort(), want, 'PostgreSQL holds exactly the valid documents');
      for (const d of rows) assert.equal(d.title, stored.get(d.id), `title of ${JSON.stringify(d.id)}`);
      assert.deepEqual((await app.stores.neo4j.listDocIds(null, 100_000)).sort(), want, 'Neo4j stand-in');
      assert.deepEqual((await app.stores.qdrant.listDocIds(null, 100_000)).sort(), want, 'Qdrant stand-in');
      assert.deepEqual((await app.stores.redis.listDocIds(null, 100_000)).sort(), want, 'Redis stand-in');
      const sagas = await allSagas(app.engine.log);
      assert.deepEqual(
        sagas.filter((s) => s.status !== 'completed').map((s) => `${s.sagaId} ${s.status}`),
        [],
        'every saga completed',
      );
      assert.deepEqual((await verifyStores(app.stores)).violations, []);
    } finally {
      await app.close();
    }
  },
);
