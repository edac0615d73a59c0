// Saga log retention through the CLI: ended sagas older than the given age are deleted, younger
// ones are kept, and the stores are untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn as cli } from '../support/cli.js';

test('sagas prune deletes only sagas that ended before the given age', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-prune-'));
  assert.equal(cli(dir, ['ingest', 'examples/corpus/graphs']).code, 0);
  const kept = JSON.parse(cli(dir, ['sagas', 'prune', '--older-than', '1h', '--json']).stdout) as { deleted: number };
  assert.equal(kept.deleted, 0, 'sagas that ended seconds ago are younger than an hour');
  // Wait until the newest saga is more than 1 s old by the log's own timestamps (not a guessed sleep).
  const listed = JSON.parse(cli(dir, ['sagas', 'list', '--json', '--limit', '1000']).stdout) as {
    sagas: Array<{ updatedAt: string | number }>;
  };
  const newest = Math.max(...listed.sagas.map((x) => new Date(x.updatedAt).getTime()));
  assert.ok(Number.isFinite(newest), 'the sagas carry their end time');
  await new Promise((r) => setTimeout(r, Math.max(0, newest + 1_050 - Date.now())));
  const gone = JSON.parse(cli(dir, ['sagas', 'prune', '--older-than', '1s', '--json']).stdout) as { deleted: number };
  assert.ok(gone.deleted > 10);
  assert.deepEqual((JSON.parse(cli(dir, ['sagas', 'list', '--json']).stdout) as { sagas: unknown[] }).sagas, []);
  const verify = JSON.parse(cli(dir, ['verify', '--json']).stdout) as { committed: number; violations: unknown[] };
  assert.equal(verify.committed, gone.deleted, 'the documents stay');
  assert.deepEqual(verify.violations, []);
});
