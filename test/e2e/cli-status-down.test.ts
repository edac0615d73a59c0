// `status` is for bad days: with a store unreachable it still starts, reports that store DOWN
// (and the others ok), and exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

test('status reports an unreachable store as down instead of failing to start', () => {
  const env = { ...process.env };
  for (const k of ['DATABASE_URL', 'QDRANT_URL', 'REDIS_URL', 'SAGA_LOG_URL', 'APEX_DATA_DIR']) delete env[k];
  const r = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/apex-memory.mjs'), '--data-dir', mkdtempSync(join(tmpdir(), 'apex-status-')), 'status', '--json'],
    // Port 1 on loopback: nothing listens there, the connection is refused at once.
    { cwd: ROOT, encoding: 'utf8', timeout: 90_000, env: { ...env, NEO4J_URL: 'bolt://127.0.0.1:1', APEX_STORE_TIMEOUT_MS: '2000' } },
  );
  assert.equal(r.status, 1, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; stores: Array<{ store: string; ok: boolean; detail: string }> };
  assert.equal(report.ok, false);
  const byName = Object.fromEntries(report.stores.map((s) => [s.store, s]));
  assert.equal(byName.neo4j?.ok, false);
  assert.match(byName.neo4j?.detail ?? '', /ECONNREFUSED|ServiceUnavailable/);
  assert.deepEqual([byName.postgres?.ok, byName.qdrant?.ok, byName.redis?.ok], [true, true, true]);
});
