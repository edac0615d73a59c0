// issue 25 on the embedded profile, through the real CLI: a small corpus at the default hashing-256,
// then `reindex --dimension 384`, `--verify`, `--switch`; a process with the old settings then
// refuses to start (exit 2, naming both), one with EMBEDDING_DIMENSION=384 searches the new
// collection and `verify` reports 0; `--finish` drops the old collection. Also the refusals:
// --chunking (exit 2) and another target while one is in progress (exit 1). Then re-chunking:
// `reindex --chunk-target-chars 300 --chunk-max-chars 500`, `--switch`, `verify` 0, `--finish`.
// run-tests: beside
// (embedded profile in temp data dirs, no shared server: it runs beside the group's other files.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn, json } from '../support/cli.js';

test('embedded: reindex --dimension 384, --verify, --switch, then the new settings serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-reindex-'));
  const ingest = cliIn(dir, ['ingest', 'examples/corpus/caching', '--no-progress', '--json']);
  assert.equal(ingest.code, 0, ingest.stderr);
  const docs = json<{ completed: number }>(ingest).completed;

  const chunking = cliIn(dir, ['reindex', '--chunking', '2']);
  assert.equal(chunking.code, 2);
  assert.match(chunking.stderr, /REINDEX_UNSUPPORTED.*--chunk-target-chars/);

  const t0 = performance.now();
  const run = cliIn(dir, ['reindex', '--dimension', '384', '--no-progress', '--json']);
  const secs = (performance.now() - t0) / 1000;
  assert.equal(run.code, 0, run.stderr);
  const summary = json<{ ok: boolean; reindexed: number; committed: number; seconds: number }>(run);
  assert.deepEqual([summary.ok, summary.committed, summary.reindexed], [true, docs, docs]);
  console.log(
    `embedded reindex (loaded machine): ${docs} documents, ${(docs / summary.seconds).toFixed(1)} docs/s in the loop, ${secs.toFixed(1)} s for the command`,
  );

  const other = cliIn(dir, ['reindex', '--dimension', '512']);
  assert.equal(other.code, 1);
  assert.match(other.stderr, /REINDEX_CONFLICT/);
  assert.equal(cliIn(dir, ['reindex', '--verify']).code, 0);
  const sw = cliIn(dir, ['reindex', '--switch']);
  assert.equal(sw.code, 0, sw.stderr);
  assert.match(sw.stdout, /switched: phase switched; reads from hashing \(dimension 384/);

  const old = cliIn(dir, ['search', 'cache aside']);
  assert.equal(old.code, 2);
  assert.match(old.stderr, /INDEX_MISMATCH.*EMBEDDING_DIMENSION=256.*dimension 384/);
  const env = { EMBEDDING_DIMENSION: '384' };
  const search = cliIn(dir, ['search', 'cache aside reads', '--json'], { env });
  assert.equal(search.code, 0, search.stderr);
  assert.ok(json<{ hits: unknown[] }>(search).hits.length > 0);
  const status = cliIn(dir, ['status', '--json'], { env });
  assert.equal(json<{ index: { phase: string } }>(status).index.phase, 'switched');
  const verify = cliIn(dir, ['verify', '--json'], { env });
  assert.equal(verify.code, 0, verify.stdout);
  const fin = cliIn(dir, ['reindex', '--finish'], { env });
  assert.equal(fin.code, 0, fin.stderr);
  assert.match(fin.stdout, /finished: phase steady/);
});

test('embedded: reindex --chunk-target-chars 300 --chunk-max-chars 500, --switch, verify 0, --finish', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-rechunk-'));
  const ingest = cliIn(dir, ['ingest', 'examples/corpus/caching', '--no-progress', '--json']);
  assert.equal(ingest.code, 0, ingest.stderr);
  const docs = json<{ completed: number }>(ingest).completed;
  const before = cliIn(dir, ['get', '002-memcached-and-stampede-protection.md', '--json']);
  const chunksBefore = json<{ chunks: number }>(before).chunks;

  const bad = cliIn(dir, ['reindex', '--chunk-target-chars', '700', '--chunk-max-chars', '600']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /REINDEX_INVALID.*--chunk-target-chars \(700\) must not exceed --chunk-max-chars \(600\)/);

  const t0 = performance.now();
  const run = cliIn(dir, ['reindex', '--chunk-target-chars', '300', '--chunk-max-chars', '500', '--no-progress', '--json']);
  assert.equal(run.code, 0, run.stderr);
  const summary = json<{ ok: boolean; reindexed: number; committed: number; next: { chunking: number } }>(run);
  assert.deepEqual([summary.ok, summary.committed, summary.reindexed, summary.next.chunking], [true, docs, docs, 2]);
  console.log(`embedded re-chunk: ${docs} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s for the command`);
  const sw = cliIn(dir, ['reindex', '--switch']);
  assert.equal(sw.code, 0, sw.stderr);
  assert.match(sw.stdout, /reads from hashing \(dimension 256, chunking v2\)/);
  const verify = cliIn(dir, ['verify', '--json']);
  assert.equal(verify.code, 0, verify.stdout);
  // Reads use the new chunking: the 1.3 KB document has more, smaller chunks at 300/500 than at 800/1200.
  const get = cliIn(dir, ['get', '002-memcached-and-stampede-protection.md', '--json']);
  assert.equal(get.code, 0, get.stderr);
  assert.ok(json<{ chunks: number }>(get).chunks > chunksBefore, `${chunksBefore} chunks before: ${get.stdout}`);
  const fin = cliIn(dir, ['reindex', '--finish']);
  assert.equal(fin.code, 0, fin.stderr);
  const after = cliIn(dir, ['verify', '--json']);
  assert.equal(after.code, 0, after.stdout);
});
