// `status` with the saga log down (issue 13 item 4): it must still answer, with the stores'
// health, `sagaLog.ok: false` and exit 1; a log that accepts connections and never answers must
// not hang it. The CLI runs embedded (no server); the "log" is a closed port or a silent socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeSagaLog } from '../../src/cli/status-log.js';
import { spawnCli } from '../support/cli-async.js';

interface StatusJson {
  ok: boolean;
  stores: Array<{ store: string; ok: boolean }>;
  sagaLog: { ok: boolean; detail: string };
  sagas: Record<string, number> | null;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

async function status(
  logUrl: string,
  extra: Record<string, string> = {},
): Promise<{ code: number | null; report: StatusJson; stderr: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'apex-status-log-'));
  const r = await spawnCli(['status', '--json'], { APEX_DATA_DIR: dataDir, SAGA_LOG_URL: logUrl, ...extra }).exited;
  let report: StatusJson;
  try {
    report = JSON.parse(r.stdout) as StatusJson;
  } catch {
    assert.fail(`stdout is not JSON (exit ${r.code}):\n${r.stdout.slice(0, 500)}\nstderr:\n${r.stderr.slice(-1000)}`);
  }
  return { code: r.code, report, stderr: r.stderr };
}

test('probeSagaLog: ok, a failure (code kept, password redacted) and a log that never answers (bounded)', async () => {
  const kind = 'postgres';
  assert.deepEqual(await probeSagaLog({ kind, list: () => Promise.resolve({ sagas: [], next: null }) }, 1_000), {
    ok: true,
    detail: 'postgres saga log answers',
  });
  const failing = Object.assign(new Error('connect ECONNREFUSED postgresql://apex:hunter2@127.0.0.1:5/x'), { code: 'LOG_FAILURE' });
  const down = await probeSagaLog({ kind, list: () => Promise.reject(failing) }, 1_000);
  assert.equal(down.ok, false);
  assert.match(down.detail, /^postgres saga log: \[LOG_FAILURE\] connect ECONNREFUSED/);
  assert.ok(!down.detail.includes('hunter2'), down.detail);
  const silent = await probeSagaLog({ kind, list: () => new Promise<never>(() => undefined) }, 150);
  assert.deepEqual(silent, { ok: false, detail: 'postgres saga log: no answer in 150 ms' });
});

test('status --json with the saga log refusing connections: the log DOWN, the stores reported, exit 1', async () => {
  const closed = createServer();
  const port = await listen(closed);
  await new Promise<void>((r) => closed.close(() => r()));
  const { code, report, stderr } = await status(`postgresql://apex:secret-pw@127.0.0.1:${port}/apex`);
  assert.equal(code, 1, stderr);
  assert.equal(report.ok, false);
  assert.equal(report.sagaLog.ok, false);
  assert.match(report.sagaLog.detail, /ECONNREFUSED/);
  assert.equal(report.sagas, null, 'counts are unknown, not zero');
  assert.deepEqual(
    report.stores.map((s) => [s.store, s.ok]),
    [
      ['postgres', true],
      ['neo4j', true],
      ['qdrant', true],
      ['redis', true],
    ],
  );
  assert.match(stderr, /saga log: postgres postgresql:\/\/127\.0\.0\.1:\d+\/apex \(DOWN\)/, 'the profile line names the real log, down');
  assert.ok(!`${JSON.stringify(report)}${stderr}`.includes('secret-pw'), 'no password in the output');
});

test('status --json with a saga log that accepts connections and never answers: bounded, reported DOWN', async () => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s)); // never writes a byte
  const port = await listen(silent);
  try {
    // 300 ms store timeout: status gives the log 5 x 300 ms to open, then reports it down.
    const { code, report, stderr } = await status(`postgresql://apex@127.0.0.1:${port}/apex`, { APEX_STORE_TIMEOUT_MS: '300' });
    assert.equal(code, 1, stderr);
    assert.equal(report.sagaLog.ok, false);
    assert.equal(report.sagaLog.detail, 'postgres saga log: no answer in 1500 ms');
    assert.ok(sockets.length > 0, 'status did connect to the silent log');
    assert.ok(
      report.stores.every((s) => s.ok),
      'the embedded stores are still reported',
    );
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
  }
});

test('status --json with a healthy (SQLite) saga log reports it ok', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'apex-status-log-'));
  const { code, report, stderr } = await status(join(dataDir, 'log.db'));
  assert.equal(code, 0, stderr);
  assert.deepEqual(report.sagaLog, { ok: true, detail: 'sqlite saga log answers' });
  assert.equal(report.sagas?.stuck, 0);
});
