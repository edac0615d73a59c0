// Chunkings in the active index record (docs/reindex.md "Re-chunking"): parameters recorded per
// version, parsed strictly, versions assigned once and reused for the same parameters, and the
// CLI's flags checked with errors that name the flag and the limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CHUNK_CHARS_MAX,
  CHUNK_CHARS_MIN,
  checkChunkingParams,
  chunkingFor,
  chunkingParams,
  initialState,
  liveChunkings,
  parseState,
  startMigration,
  switchTo,
  type IndexState,
} from '../../src/ingest/reindex/state.js';
import { limitsOf, planOf, rechunk } from '../../src/ingest/reindex/chunkings.js';
import { wantedChunking } from '../../src/cli/reindex.js';

const active = { embedder: 'hashing', model: 'hashing', dimension: 256, chunking: 1, collection: 'apex_chunks' };
const steady: IndexState = initialState(active);

test('chunkingFor: the defaults are version 1; new parameters get max + 1, the same ones their version again', () => {
  assert.deepEqual(chunkingFor(steady, { targetChars: 800, maxChars: 1200 }), { state: steady, chunking: 1 });
  const a = chunkingFor(steady, { targetChars: 600, maxChars: 900 });
  assert.equal(a.chunking, 2);
  assert.deepEqual(a.state.chunkings, { '2': { targetChars: 600, maxChars: 900 } });
  const again = chunkingFor(a.state, { targetChars: 600, maxChars: 900 });
  assert.equal(again.chunking, 2);
  assert.equal(again.state, a.state, 'nothing new: the same state object (a resume writes nothing)');
  const b = chunkingFor(a.state, { targetChars: 300, maxChars: 400 });
  assert.equal(b.chunking, 3);
  assert.deepEqual(chunkingParams(b.state, 3), { targetChars: 300, maxChars: 400 });
  assert.deepEqual(chunkingParams(b.state, 1), { targetChars: 800, maxChars: 1200 });
});

test('a migration to a new chunking: next names it, live chunkings are both, a switch makes it active', () => {
  const c = chunkingFor(steady, { targetChars: 600, maxChars: 900 });
  const m = startMigration(c.state, { ...active, chunking: c.chunking }, 'apex_chunks');
  assert.equal(m.next?.chunking, 2);
  assert.equal(m.next?.collection, 'apex_chunks_v2');
  assert.deepEqual(liveChunkings(m), [1, 2]);
  assert.equal(startMigration(m, { ...active, chunking: 2 }, 'apex_chunks'), m, 'the same target resumes');
  const s = switchTo(m);
  assert.deepEqual(liveChunkings(s), [2, 1]);
  const plan = planOf(s);
  assert.deepEqual([plan.active, plan.all], [2, [2, 1]]);
  assert.deepEqual(limitsOf(s, 2, { maxChunksPerDocument: 10 }), { maxChunksPerDocument: 10, chunkTargetChars: 600, chunkMaxChars: 900 });
  assert.deepEqual(limitsOf(s, 1, { maxChunksPerDocument: 10 }), { maxChunksPerDocument: 10 });
  // The record round-trips through JSON (PostgreSQL's jsonb) unchanged.
  assert.deepEqual(parseState(JSON.parse(JSON.stringify(s))), s);
});

test('parseState refuses chunkings it cannot trust, naming what is wrong', () => {
  const raw = (extra: Record<string, unknown>): unknown => ({ ...steady, ...extra });
  const invalid = (extra: Record<string, unknown>, what: RegExp): void =>
    assert.throws(
      () => parseState(raw(extra)),
      (err: Error & { code?: string }) => err.code === 'INDEX_RECORD_INVALID' && what.test(err.message),
    );
  invalid({ chunkings: { '1': { targetChars: 100, maxChars: 200 } } }, /chunkings key "1"/);
  invalid({ chunkings: { two: { targetChars: 100, maxChars: 200 } } }, /chunkings key "two"/);
  invalid({ chunkings: { '2': { targetChars: 10, maxChars: 200 } } }, /chunkings\.2\.targetChars must be an integer from 64/);
  invalid({ chunkings: { '2': { targetChars: 300, maxChars: 200 } } }, /chunkings\.2\.targetChars \(300\) must not exceed/);
  invalid(
    { next: { ...active, chunking: 5, collection: 'apex_chunks_v2' }, phase: 'migrating' },
    /chunking v5, whose parameters are not recorded/,
  );
  // Records written before chunkings existed parse as before.
  assert.deepEqual(parseState(raw({})), steady);
});

test('chunking parameters: integers within bounds, target not above max; errors name the flag and the limit', () => {
  const refused = (p: { targetChars: number; maxChars: number }, what: RegExp): void =>
    assert.throws(
      () => checkChunkingParams(p),
      (err: Error & { code?: string }) => err.code === 'REINDEX_INVALID' && what.test(err.message),
    );
  refused({ targetChars: CHUNK_CHARS_MIN - 1, maxChars: 900 }, /--chunk-target-chars must be an integer from 64 to 16384 \(got 63\)/);
  refused({ targetChars: 600, maxChars: CHUNK_CHARS_MAX + 1 }, /--chunk-max-chars must be an integer from 64 to 16384/);
  refused({ targetChars: 600.5, maxChars: 900 }, /--chunk-target-chars/);
  refused({ targetChars: 901, maxChars: 900 }, /--chunk-target-chars \(901\) must not exceed --chunk-max-chars \(900\)/);
  checkChunkingParams({ targetChars: CHUNK_CHARS_MIN, maxChars: CHUNK_CHARS_MAX });
  // The CLI: one flag alone keeps the active chunking's other parameter.
  assert.deepEqual(wantedChunking(steady, { chunkTargetChars: 600 }), { targetChars: 600, maxChars: 1200 });
  assert.deepEqual(wantedChunking(steady, { chunkMaxChars: 2000 }), { targetChars: 800, maxChars: 2000 });
  assert.equal(wantedChunking(steady, {}), undefined);
  assert.throws(
    () => wantedChunking(steady, { chunkMaxChars: 500 }),
    /--chunk-target-chars \(800\) must not exceed --chunk-max-chars \(500\)/,
  );
});

test('rechunk cuts the serving chunks again with the new parameters, losing no character but whitespace at cuts', () => {
  const old = ['First paragraph. It is short.', 'Second paragraph, a little longer than the first one, with more words in it.'];
  const cut = rechunk(old, { targetChars: 64, maxChars: 80 });
  assert.ok(cut.length >= 2);
  assert.ok(cut.every((c) => c.length <= 80));
  assert.equal(cut.join('').replace(/\s/g, ''), old.join('').replace(/\s/g, ''));
});
