// The active index record's state machine and compare-and-set (docs/reindex.md), on the memory
// record (the SQL runs against real PostgreSQL in test/integration/reindex-servers.test.ts):
// transitions, refusals, two operators racing, a malformed record, and the refusal at start of a
// process whose embedder contradicts the record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryIndexState } from '../support/memory-index-state.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { IndexRecord } from '../../src/ingest/reindex/record.js';
import { finish, initialState, parseState, rollback, startMigration, switchTo, type IndexTarget } from '../../src/ingest/reindex/state.js';
import { checkProcessEmbedder, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';

const base = 'apex_chunks';
const h256: IndexTarget = { ...targetOfEmbedder(new HashingEmbedder(256)), collection: base };
const h384 = targetOfEmbedder(new HashingEmbedder(384));
const pg = new MemoryIndexState();

test('transitions: start, resume, conflict, switch, rollback, finish', () => {
  const s0 = initialState(h256);
  assert.equal(s0.phase, 'steady');
  const s1 = startMigration(s0, h384, base);
  assert.equal(s1.phase, 'migrating');
  assert.equal(s1.next?.collection, 'apex_chunks_v2');
  assert.equal(s1.next?.dimension, 384);
  assert.equal(startMigration(s1, h384, base), s1, 'the same target resumes (no change)');
  assert.throws(() => startMigration(s1, { ...h384, dimension: 512 }, base), { code: 'REINDEX_CONFLICT' });
  assert.throws(() => startMigration(s0, h256, base), { code: 'REINDEX_CONFLICT' }, 'the active target is no migration');
  const s2 = switchTo(s1);
  assert.deepEqual([s2.phase, s2.active.dimension, s2.previous?.dimension, s2.next], ['switched', 384, 256, null]);
  assert.equal(switchTo(s2), s2, 'a re-run of --switch changes nothing');
  assert.throws(() => startMigration(s2, { ...h384, dimension: 512 }, base), { code: 'REINDEX_PHASE' });
  const s3 = rollback(s2);
  assert.deepEqual(
    [s3.phase, s3.active.dimension, s3.next?.dimension],
    ['migrating', 256, 384],
    'rollback: old reads, new stays dual-written',
  );
  const s4 = finish(switchTo(s3));
  assert.deepEqual([s4.phase, s4.active.collection, s4.previous], ['steady', 'apex_chunks_v2', null]);
  assert.throws(() => finish(s1), { code: 'REINDEX_PHASE' });
  assert.deepEqual(rollback(s1).phase, 'steady', 'rollback before the switch abandons the migration');
  assert.throws(() => rollback(s0), { code: 'REINDEX_PHASE' });
  assert.throws(() => switchTo(s0), { code: 'REINDEX_PHASE' });
});

test('the record: created once, compare-and-set, racing operators both apply in order', async () => {
  const a = new IndexRecord(pg);
  const b = new IndexRecord(pg);
  const first = await a.ensure(initialState(h256));
  const again = await b.ensure(initialState({ ...h256, dimension: 999 }));
  assert.equal(again.state.active.dimension, 256, 'a second start keeps the record it found');
  assert.equal(again.version, first.version);
  assert.equal(await pg.writeIndexState(first.version + 5, { nope: true }), null, 'a stale version writes nothing');
  // Two operators start the same migration at once: one writes it, the other sees it (no change).
  const [ra, rb] = await Promise.all([a.change((s) => startMigration(s, h384, base)), b.change((s) => startMigration(s, h384, base))]);
  assert.equal([ra.changed, rb.changed].filter(Boolean).length, 1, 'exactly one wrote the migration');
  assert.equal((await a.read())?.state.next?.collection, 'apex_chunks_v2');
  // Two different targets at once: one wins, the other is refused with a clear error.
  await a.change((s) => rollback(s));
  const results = await Promise.allSettled([
    a.change((s) => startMigration(s, h384, base)),
    b.change((s) => startMigration(s, { ...h384, dimension: 512 }, base)),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  const refused = results.find((r) => r.status === 'rejected');
  assert.equal((refused as PromiseRejectedResult).reason.code, 'REINDEX_CONFLICT');
});

test('a process whose embedder contradicts the record refuses to start, naming settings and record', () => {
  const s = initialState(h256);
  checkProcessEmbedder(s, new HashingEmbedder(256));
  assert.throws(
    () => checkProcessEmbedder(s, new HashingEmbedder(384)),
    (err: Error & { code?: string }) =>
      err.code === 'INDEX_MISMATCH' &&
      err.message.includes('EMBEDDING_DIMENSION=384') &&
      err.message.includes('hashing (dimension 256') &&
      err.message.includes('apex_chunks'),
  );
  const switched = switchTo(startMigration(s, h384, base));
  checkProcessEmbedder(switched, new HashingEmbedder(384));
  assert.throws(() => checkProcessEmbedder(switched, new HashingEmbedder(256)), /--rollback/);
});

test('a malformed record is an error naming what is wrong', () => {
  assert.throws(() => parseState({ phase: 'sideways' }), { code: 'INDEX_RECORD_INVALID', message: /phase "sideways"/ });
  assert.throws(() => parseState({ phase: 'steady', active: { embedder: 'hashing' } }), {
    code: 'INDEX_RECORD_INVALID',
    message: /active/,
  });
  const s = startMigration(initialState(h256), h384, base);
  assert.deepEqual(parseState(JSON.parse(JSON.stringify(s))), s);
});
