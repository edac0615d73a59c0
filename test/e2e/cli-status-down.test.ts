// `status` is for bad days: with a store unreachable it still starts, reports that store DOWN
// (and the others ok), and exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn } from '../support/cli.js';

test('status reports an unreachable store as down instead of failing to start', () => {
  // Port 1 on loopback: nothing listens there, the connection is refused at once.
  const r = cliIn(mkdtempSync(join(tmpdir(), 'apex-status-')), ['status', '--json'], {
    env: { NEO4J_URL: 'bolt://127.0.0.1:1', APEX_STORE_TIMEOUT_MS: '2000' },
  });
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; stores: Array<{ store: string; ok: boolean; detail: string }> };
  assert.equal(report.ok, false);
  const byName = Object.fromEntries(report.stores.map((s) => [s.store, s]));
  assert.equal(byName.neo4j?.ok, false);
  assert.match(byName.neo4j?.detail ?? '', /ECONNREFUSED|ServiceUnavailable/);
  assert.deepEqual([byName.postgres?.ok, byName.qdrant?.ok, byName.redis?.ok], [true, true, true]);
});
