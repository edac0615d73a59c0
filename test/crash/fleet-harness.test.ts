// The fleet tests' own checker must be able to fail: overlapping calls of two tokens on one saga
// and store are reported; same-token, other-store and back-to-back calls are not; a call cut by a
// kill ends at the kill time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { overlaps, readIntervals, type CallInterval } from '../fleet/harness.js';

const call = (token: number, start: number, end: number, store = 'postgres', saga = 's1'): CallInterval => ({
  pid: token,
  saga,
  store,
  method: 'm',
  token,
  start,
  end,
  outcome: 'ok',
});

test('overlaps: reports two tokens writing one saga and store at once, nothing else', () => {
  assert.equal(overlaps([call(1, 0, 10), call(2, 5, 20)]).length, 1);
  assert.equal(overlaps([call(1, 0, 10), call(1, 5, 20)]).length, 0, 'same token (parallel retries of one owner)');
  assert.equal(overlaps([call(1, 0, 10), call(2, 10, 20)]).length, 0, 'back to back');
  assert.equal(overlaps([call(1, 0, 10), call(2, 5, 20, 'neo4j')]).length, 0, 'other store');
  assert.equal(overlaps([call(1, 0, 10), call(2, 5, 20, 'postgres', 's2')]).length, 0, 'other saga');
  assert.equal(overlaps([call(1, 0, 100), call(2, 20, 30), call(3, 40, 50)]).length, 2, 'a long call overlapping two later ones');
});

test('readIntervals: a call without an end line ends at its process kill time', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-fleet-harness-'));
  const path = join(dir, 'calls.txt');
  writeFileSync(path, 'S 1.0 s1 postgres putPending 3 100\nE 1.0 150 ok\nS 1.1 s1 neo4j writeVersion 3 160\n');
  const ivs = readIntervals([{ path, pid: 1, killedAt: 170 }]);
  assert.deepEqual(
    ivs.map((c) => [c.store, c.start, c.end, c.outcome]),
    [
      ['postgres', 100, 150, 'ok'],
      ['neo4j', 160, 170, 'cut'],
    ],
  );
});
