// The whole CLI flow on the embedded profile, each step a real `apex-memory` child process on one
// temp data dir: ingest the example corpus, verify, re-ingest (all unchanged), search, get,
// delete, verify again, list and show sagas, status, recover.
// run-tests: beside
// (embedded profile in temp data dirs, no shared server: it runs beside the group's other files.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn as cli, json, ROOT } from '../support/cli.js';
const CORPUS_DOCS = 304;
// A document and a phrase from it (its title): search must find it among the first hits.
const TARGET_ID = 'caching/007-quotes-double-single-and-backticks.md';
const TARGET_TITLE =
  readFileSync(join(ROOT, 'examples/corpus', TARGET_ID), 'utf8')
    .split('\n')[0]
    ?.replace(/^# /, '') ?? '';

interface IngestJson {
  ok: boolean;
  completed: number;
  created: number;
  updated: number;
  unchanged: number;
  compensated: number;
  stuck: number;
  rejected: number;
  latencyMs: { sagas: number };
  failures: unknown[];
  profile: { profile: string };
}

void describe('apex-memory CLI, embedded profile, example corpus', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'apex-cli-flow-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void test('ingest examples/corpus: all 304 created, summary and profile printed, exit 0', () => {
    const r = cli(dir, ['ingest', 'examples/corpus']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.split('\n')[0] ?? '', /^profile: embedded/, 'the profile comes first');
    assert.match(r.stdout, /saga log: sqlite .*saga-log\.db\s+durability: synchronous=FULL/);
    assert.match(r.stdout, new RegExp(`completed\\s+${CORPUS_DOCS} \\(created ${CORPUS_DOCS}, updated 0, unchanged 0\\)`));
    for (const row of ['compensated', 'stuck', 'rejected', 'errors']) assert.match(r.stdout, new RegExp(`^${row}\\s+0$`, 'm'));
    assert.match(r.stdout, /latency ms \(304 sagas\)\s+p50 [\d.]+\s+p90 [\d.]+\s+p99 [\d.]+/);
    assert.match(r.stdout, /documents\/second\s+[\d.]+/);
    assert.match(r.stdout, /wall time\s+[\d.]+ s/);
    // stderr is not a terminal here: plain progress lines, at most one per 2 s of wall time.
    const wall = Number(/wall time\s+([\d.]+) s/.exec(r.stdout)?.[1]);
    const progressLines = r.stderr.split('\n').filter((l) => l.startsWith('ingest: '));
    assert.ok(progressLines.length <= Math.floor(wall / 2) + 1, `${progressLines.length} progress lines in ${wall} s`);
    assert.ok(!r.stderr.includes('\u001b['), 'no terminal escape codes in a log');
  });

  void test('verify --json: 304 committed, 0 violations, exit 0; profile on stderr', () => {
    const r = cli(dir, ['verify', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = json<{ ok: boolean; documents: number; committed: number; violations: unknown[] }>(r);
    assert.deepEqual(report, { ok: true, documents: CORPUS_DOCS, committed: CORPUS_DOCS, violations: [] });
    assert.match(r.stderr, /^profile: embedded/);
  });

  void test('re-ingest --json: every document unchanged, no saga ran', () => {
    const r = cli(dir, ['ingest', 'examples/corpus', '--json', '--concurrency', '4']);
    assert.equal(r.code, 0, r.stderr);
    const s = json<IngestJson>(r);
    assert.equal(s.ok, true);
    assert.equal(s.completed, CORPUS_DOCS);
    assert.equal(s.unchanged, CORPUS_DOCS);
    assert.equal(s.created + s.updated + s.compensated + s.stuck + s.rejected, 0);
    assert.equal(s.latencyMs.sagas, 0);
    assert.deepEqual(s.failures, []);
    assert.equal(s.profile.profile, 'embedded');
  });

  void test('search finds a document by a phrase from it, with its entities', () => {
    assert.ok(TARGET_TITLE.length > 10);
    const r = cli(dir, ['search', '--json', '--limit', '5', ...TARGET_TITLE.split(' ')]);
    assert.equal(r.code, 0, r.stderr);
    const { query, hits } = json<{ query: string; hits: Array<{ id: string; entities: string[]; snippet: string }> }>(r);
    assert.equal(query, TARGET_TITLE);
    const hit = hits.find((h) => h.id === TARGET_ID);
    assert.ok(hit, `${TARGET_ID} among ${hits.map((h) => h.id).join(', ')}`);
    assert.ok(hit.entities.includes('Redis'), `entities: ${hit.entities.join(', ')}`);
  });

  void test('get shows the committed document', () => {
    const r = cli(dir, ['get', TARGET_ID]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^id:\s+caching\/007-quotes-double-single-and-backticks\.md$/m);
    assert.match(r.stdout, /^title:\s+Quotes "double", 'single' and `backticks`$/m);
    assert.match(r.stdout, /^cached:\s+yes/m);
    assert.match(r.stdout, /Least Recently Used eviction appears 33 times/);
  });

  void test('delete runs the delete saga; get then says not found; a second delete finds it absent', () => {
    const del = cli(dir, ['delete', TARGET_ID]);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /^outcome:\s+deleted$/m);
    assert.match(del.stdout, /^saga:\s+[0-9a-f-]{36}$/m);
    const get = cli(dir, ['get', TARGET_ID]);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /not found \[CLI_NOT_FOUND\]/);
    const again = json<{ ok: boolean; action: string }>(cli(dir, ['delete', TARGET_ID, '--json']));
    assert.deepEqual([again.ok, again.action], [true, 'absent']);
  });

  void test('verify stays clean after the delete', () => {
    const r = cli(dir, ['verify']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /^documents:\s+303$/m);
    assert.match(r.stdout, /^violations:\s+0$/m);
    assert.match(r.stdout, /verify: OK/);
  });

  void test('sagas list --json shows the completed sagas; show prints one timeline', () => {
    const r = cli(dir, ['sagas', 'list', '--json', '--status', 'completed', '--limit', '1000']);
    assert.equal(r.code, 0, r.stderr);
    const { sagas } = json<{ sagas: Array<{ sagaId: string; name: string; status: string }> }>(r);
    assert.equal(sagas.filter((s) => s.name === 'ingest').length, CORPUS_DOCS);
    const deletes = sagas.filter((s) => s.name === 'delete');
    assert.equal(deletes.length, 1);
    assert.ok(sagas.every((s) => s.status === 'completed'));
    const id = deletes[0]?.sagaId ?? '';
    const show = cli(dir, ['sagas', 'show', id]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /^definition:\s+delete@1$/m);
    assert.match(show.stdout, /^status:\s+completed$/m);
    assert.match(show.stdout, /step_started\s+\w+\s+1/);
    assert.match(show.stdout, /status\s+completed\s*$/m);
  });

  void test('status: every store healthy, saga counts; recover finds nothing to claim', () => {
    const s = json<{ ok: boolean; stores: Array<{ store: string; ok: boolean }>; sagas: Record<string, number> }>(
      cli(dir, ['status', '--json']),
    );
    assert.equal(s.ok, true);
    assert.deepEqual(
      s.stores.map((x) => [x.store, x.ok]),
      [
        ['postgres', true],
        ['neo4j', true],
        ['qdrant', true],
        ['redis', true],
      ],
    );
    assert.equal(s.sagas.completed, CORPUS_DOCS + 1);
    assert.equal(s.sagas.stuck, 0);
    const rec = cli(dir, ['sagas', 'recover', '--json']);
    assert.equal(rec.code, 0, rec.stderr);
    assert.deepEqual(json<{ claimed: number; stuck: string[] }>(rec).claimed, 0);
  });
});
