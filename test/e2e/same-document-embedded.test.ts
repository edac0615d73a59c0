// Same-document safety on the embedded profile, driven exactly as a user would (issue: a crashed
// run's late compensation deleted the version a re-run committed):
//  - ingest, SIGKILL mid-run, the same command again at once, `sagas recover` after the leases
//    expired: verify reports 0 and a document is readable and searchable;
//  - the same with the content changed between the runs: the re-run's content wins everywhere;
//  - two processes on one data directory: the second refuses, naming the holder's pid, and
//    writes nothing.
// run-tests: beside
// (embedded profile in temp data dirs, no shared server: it runs beside the group's other files.)
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { json } from '../support/cli.js';
import { runCliAsync, spawnCli } from '../support/cli-async.js';
import { corpusVariant } from '../support/corpus-variants.js';

const LEASE_MS = 1_500;
const env = { APEX_LEASE_MS: String(LEASE_MS) };
const DOC = 'caching/020-memcached-and-least-recently-used-evicti.md';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Corpus copies per run: long enough (1,216 documents) that the progress line (every 2 s) comes
 * while the ingest still runs, at any speed this machine reaches. */
const COPIES = 4;

interface VerifyJson {
  violations: Array<{ kind: string; store: string; docId: string }>;
}
interface DocJson {
  id: string;
  text: string;
}
interface SearchJson {
  hits: Array<{ id: string }>;
}

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'apex-samedoc-'));
  dirs.push(d);
  return d;
};
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts an ingest and SIGKILLs it once it has reported some progress (not all of it). */
async function killMidIngest(dataDir: string, corpus: string): Promise<number> {
  const run = spawnCli(['--data-dir', dataDir, 'ingest', corpus, '-c', '16'], env);
  const m = await run.waitFor(/ingest: ([1-9]\d*)\/\d+/);
  run.child.kill('SIGKILL');
  await run.exited;
  return Number(m[1]);
}

void describe('same document, embedded profile', () => {
  void it('SIGKILL mid-ingest, the same command at once, recover an hour later: verify 0, readable, searchable', async () => {
    const dataDir = tempDir();
    const corpus = corpusVariant(undefined, COPIES);
    const done = await killMidIngest(dataDir, corpus.dir);
    const rerun = await runCliAsync(['--data-dir', dataDir, 'ingest', corpus.dir, '-c', '16'], env);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, new RegExp(`completed\\s+${corpus.files.length} `), rerun.stdout);
    assert.match(rerun.stdout, /compensated\s+0\n/);
    // The re-run finished the dead run's sagas too: nothing is left running, no lease to wait out.
    for (const status of ['running', 'compensating', 'stuck']) {
      const left = await runCliAsync(['--data-dir', dataDir, 'sagas', 'list', '--status', status, '--json'], env);
      assert.deepEqual(json<{ sagas: unknown[] }>(left).sagas, [], `${status} sagas left after the re-run`);
    }
    await sleep(LEASE_MS + 300); // "an hour later": every lease of the dead run has expired
    const recover = await runCliAsync(['--data-dir', dataDir, 'sagas', 'recover', '--json'], env);
    assert.equal(recover.code, 0, recover.stdout + recover.stderr);
    const verify = await runCliAsync(['--data-dir', dataDir, 'verify', '--json'], env);
    assert.deepEqual(json<VerifyJson>(verify).violations, [], `killed after ${done} documents`);
    const got = await runCliAsync(['--data-dir', dataDir, 'get', DOC, '--json'], env);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(json<DocJson>(got).id, DOC);
    const found = await runCliAsync(['--data-dir', dataDir, 'search', 'memcached', 'least', 'recently', 'used', '--json', '-n', '50'], env);
    // Its copies (more-<n>/...) have the same text and score: any of them shows it is searchable.
    assert.ok(
      json<SearchJson>(found).hits.some((h) => h.id === DOC || h.id.endsWith(`/${DOC}`)),
      found.stdout,
    );
  });

  void it('content changed between the killed run and the re-run: the re-run wins in every store', async () => {
    const dataDir = tempDir();
    const v1 = corpusVariant('Variant one of this document.', COPIES);
    const v2 = corpusVariant('Variant two of this document.', COPIES);
    await killMidIngest(dataDir, v1.dir);
    const rerun = await runCliAsync(['--data-dir', dataDir, 'ingest', v2.dir, '-c', '16'], env);
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /compensated\s+0\n/);
    await sleep(LEASE_MS + 300);
    assert.equal((await runCliAsync(['--data-dir', dataDir, 'sagas', 'recover'], env)).code, 0);
    const verify = await runCliAsync(['--data-dir', dataDir, 'verify', '--json'], env);
    assert.deepEqual(json<VerifyJson>(verify).violations, []);
    for (const id of [DOC, 'databases/001-sqlite-and-logical-replication.md']) {
      const got = await runCliAsync(['--data-dir', dataDir, 'get', id, '--json'], env);
      if (got.code !== 0) continue; // an id not in this corpus
      assert.match(json<DocJson>(got).text, /Variant two of this document\./, id);
    }
  });

  void it('two processes on one data directory: the second refuses, naming the holder, and writes nothing', async () => {
    const dataDir = tempDir();
    const a = corpusVariant('Written by process A.', COPIES);
    const b = corpusVariant('Written by process B.');
    const first = spawnCli(['--data-dir', dataDir, 'ingest', a.dir, '-c', '8'], env);
    await first.waitFor(/ingest: \d+\/\d+/);
    const second = await runCliAsync(['--data-dir', dataDir, 'ingest', b.dir, '-c', '8'], env);
    assert.notEqual(second.code, 0);
    assert.match(second.stderr, /DATA_DIR_LOCKED/);
    assert.match(second.stderr, new RegExp(`in use by process ${first.child.pid ?? -1}\\b`));
    const firstDone = await first.exited;
    assert.equal(firstDone.code, 0, firstDone.stdout + firstDone.stderr);
    const verify = await runCliAsync(['--data-dir', dataDir, 'verify', '--json'], env);
    assert.deepEqual(json<VerifyJson>(verify).violations, []);
    const got = await runCliAsync(['--data-dir', dataDir, 'get', DOC, '--json'], env);
    assert.match(json<DocJson>(got).text, /Written by process A\./);
    assert.doesNotMatch(json<DocJson>(got).text, /process B/);
  });
});
