// The CLI's edges, each a real `apex-memory` child process: --help on every command, usage and
// configuration errors (exit 2, one line, no stack), bad input reported document by document
// (examples/bad: exit 1, the valid ones written, verify clean), stdin, and secrets kept out of
// error messages.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli as cli, embeddedEnv, json, ROOT, BIN, type Run } from '../support/cli.js';

const NO_STACK = /^\s+at /m;

/** Like cli() but without blocking, so that independent runs (help pages) overlap. */
function cliAsync(args: string[]): Promise<Run> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: embeddedEnv({}) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

void describe('apex-memory --help', () => {
  const commands = [
    [],
    ['ingest'],
    ['get'],
    ['search'],
    ['delete'],
    ['verify'],
    ['sagas'],
    ['sagas', 'list'],
    ['sagas', 'show'],
    ['sagas', 'retry'],
    ['sagas', 'recover'],
    ['status'],
    ['worker'],
  ];
  void test('--help works for every command (exit 0, its usage line, the global --data-dir, --json)', async () => {
    const runs = await Promise.all(commands.map((cmd) => cliAsync([...cmd, '--help'])));
    commands.forEach((cmd, i) => {
      const name = ['apex-memory', ...cmd].join(' ');
      const r = runs[i];
      assert.ok(r);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: ${name} `), name);
      assert.match(r.stdout, /--data-dir <dir>/, `${name} shows the global --data-dir`);
      // The long-running worker prints status lines, not a JSON result.
      if (cmd.length > 0 && cmd[0] !== 'sagas' && cmd[0] !== 'worker') assert.match(r.stdout, /--json/, name);
      if (cmd[0] === 'sagas' && cmd.length === 2) assert.match(r.stdout, /--json/, name);
    });
    const top = runs[0]?.stdout ?? '';
    for (const word of [
      'ingest',
      'get',
      'search',
      'delete',
      'verify',
      'sagas',
      'status',
      'worker',
      'DATABASE_URL',
      'SAGA_LOG_URL',
      'Exit codes',
    ])
      assert.ok(top.includes(word), word);
  });
});

void describe('apex-memory usage and configuration errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'apex-cli-usage-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void test('a bad flag value, an unknown command and a missing subcommand exit 2', () => {
    const bad = cli(['ingest', '--concurrency', '0', 'examples/bad']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--concurrency <n>' argument '0' is invalid/);
    assert.equal(cli(['ingest', '--plan', 'fast', 'x']).code, 2);
    assert.equal(cli(['frobnicate']).code, 2);
    assert.equal(cli(['sagas']).code, 2);
    assert.equal(cli(['sagas', 'list', '--status', 'done']).code, 2);
  });

  void test('a bad EMBEDDER is a configuration error: exit 2, one line with its code, no stack', () => {
    const r = cli(['--data-dir', dir, 'status'], { env: { EMBEDDER: 'bogus' } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^apex-memory: error \[EMBED_CONFIG\]: EMBEDDER must be/);
    assert.doesNotMatch(r.stderr, NO_STACK);
  });

  void test('an unreachable server fails with its store code, and its password is never printed', () => {
    const env = { DATABASE_URL: 'postgres://apex:hunter2secret@127.0.0.1:1/apex', APEX_STORE_TIMEOUT_MS: '3000' };
    const r = cli(['--data-dir', dir, 'verify'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /\[STORE_[A-Z]+\]/);
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2secret/);
    assert.doesNotMatch(r.stderr, NO_STACK);
    // status still starts (it reports the store DOWN) and does not print the password either.
    const s = cli(['--data-dir', dir, 'status'], { env });
    assert.equal(s.code, 1);
    assert.match(s.stdout, /postgres\s+DOWN/);
    assert.doesNotMatch(s.stdout + s.stderr, /hunter2secret/);
  });
});

void describe('apex-memory ingest of bad input (examples/bad)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'apex-cli-bad-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void test('every bad input is reported with its field and limit; the valid ones are written; exit 1', () => {
    const r = cli(['--data-dir', dir, 'ingest', 'examples/bad']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /6 document\(s\) not written:/);
    const expected = [
      ['examples/bad/broken.jsonl:2', /line: not valid JSON/],
      ['examples/bad/broken.jsonl:3', /id: duplicate id "bad-1" \(first seen at examples\/bad\/broken\.jsonl:1\)/],
      ['examples/bad/broken.jsonl:4', /metadata: depth at most 4 \(got 5\)/],
      ['examples/bad/empty.txt', /text: must not be empty/],
      ['examples/bad/invalid-utf8.md', /text: invalid UTF-8/],
      ['examples/bad/long-title.md', /title: at most 512 characters \(got 900\)/],
    ] as const;
    for (const [source, message] of expected) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(`rejected  ${source} `));
      assert.ok(line, `a row for ${source}`);
      assert.match(line, /DOC_INVALID/);
      assert.match(line, message);
    }
    assert.match(r.stdout, /^completed\s+2 \(created 2, updated 0, unchanged 0\)$/m);
    assert.match(r.stdout, /^rejected\s+6$/m);
  });

  void test('--json lists the same failures with field and limit; the valid ones are now unchanged', () => {
    const r = cli(['--data-dir', dir, 'ingest', 'examples/bad', '--json']);
    assert.equal(r.code, 1);
    const s = json<{
      ok: boolean;
      rejected: number;
      unchanged: number;
      failures: Array<{ kind: string; source: string; field?: string; limit?: string; code: string }>;
    }>(r);
    assert.equal(s.ok, false);
    assert.equal(s.rejected, 6);
    assert.equal(s.unchanged, 2);
    const title = s.failures.find((f) => f.source === 'examples/bad/long-title.md');
    assert.deepEqual(title && [title.kind, title.code, title.field, title.limit], [
      'rejected',
      'DOC_INVALID',
      'title',
      'at most 512 characters',
    ]);
    assert.ok(s.failures.every((f) => f.kind === 'rejected' && typeof f.field === 'string'));
  });

  void test('stdin: a JSONL document and 22 broken lines; the first 20 failures listed, the rest counted', () => {
    const broken = Array.from({ length: 22 }, (_, i) => `{"id":"broken-${i}",`).join('\n');
    const input = `{"id":"stdin-1","title":"From stdin","text":"Piped in by the e2e test."}\n${broken}\n`;
    const r = cli(['--data-dir', dir, 'ingest', '-'], { input });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^22 document\(s\) not written \(first 20 listed\):$/m);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('rejected  stdin:'));
    assert.deepEqual(
      rows.map((l) => l.split(/\s+/)[1]),
      Array.from({ length: 20 }, (_, i) => `stdin:${i + 2}`),
    );
    assert.match(r.stdout, /^\.\.\. and 2 more \(--json lists all\)$/m);
    assert.match(r.stdout, /^completed\s+1 \(created 1, updated 0, unchanged 0\)$/m);
    assert.match(r.stdout, /^rejected\s+22$/m);
  });

  void test('verify is clean: the two valid documents and the stdin one, nothing else', () => {
    const r = cli(['--data-dir', dir, 'verify', '--json']);
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(json(r), { ok: true, documents: 3, committed: 3, violations: [] });
  });

  void test('Ctrl-C during ingest: in-flight documents finish, the summary says interrupted, exit 130, verify clean', async () => {
    const child = spawn(process.execPath, [BIN, '--data-dir', dir, 'ingest', 'examples/corpus', '--concurrency', '1'], {
      cwd: ROOT,
      env: embeddedEnv({}),
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    // Ctrl-C once the run is under way, known by an event rather than a guessed delay: the first
    // progress line (stderr is not a terminal: one line per 2 s of ingest) comes after the SIGINT
    // handler is installed and while documents are still being written (304 of them, one at a time).
    let stderr = '';
    let signalled = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      if (!signalled && /^ingest: \d+/m.test(stderr)) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    assert.equal(code, 130, stdout + stderr);
    assert.match(stderr, /interrupted: finishing the documents in flight/);
    assert.match(stdout, /^interrupted\s+yes/m);
    const completed = Number(/^completed\s+(\d+)/m.exec(stdout)?.[1]);
    assert.ok(completed < 304, `stopped early (${completed} completed)`);
    assert.deepEqual(json(cli(['--data-dir', dir, 'verify', '--json'])), {
      ok: true,
      documents: 3 + completed,
      committed: 3 + completed,
      violations: [],
    });
  });

  void test('sagas show and retry of an unknown saga: exit 1 with a code, no stack', () => {
    const show = cli(['--data-dir', dir, 'sagas', 'show', 'no-such-saga']);
    assert.equal(show.code, 1);
    assert.match(show.stderr, /\[CLI_NOT_FOUND\]/);
    const retry = cli(['--data-dir', dir, 'sagas', 'retry', 'no-such-saga']);
    assert.equal(retry.code, 1);
    assert.match(retry.stderr, /\[SAGA_NOT_FOUND\]/);
    assert.doesNotMatch(show.stderr + retry.stderr, NO_STACK);
  });
});
