// Connection and query timeouts on the PostgreSQL saga log (issue 19): a log server that accepts
// connections and never answers used to hang every command. Now opening the log fails after the
// connect timeout, a statement that gets no answer fails after the query timeout, both with
// LOG_FAILURE naming the limit; and the CLI exits with that error instead of hanging.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { testServices } from '../support/services.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';
import { spawnCli } from '../support/cli-async.js';

/** A TCP server that accepts connections and never sends a byte (a hung host). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

test('opening the log on a server that never answers fails after the connect timeout, naming it', { timeout: 30_000 }, async () => {
  const silent = await silentServer();
  after(() => silent.close());
  const t0 = Date.now();
  await assert.rejects(
    PostgresSagaLog.open({
      connectionString: `postgresql://apex:apex@127.0.0.1:${silent.port}/apex_test`,
      connection: { connectTimeoutMs: 1_000 },
    }),
    (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'LOG_FAILURE');
      assert.match((err as Error).message, /cannot open the PostgreSQL saga log: no answer from the server within 1000 ms/);
      assert.doesNotMatch((err as Error).message, /apex:apex/, 'no password in the message');
      return true;
    },
  );
  assert.ok(Date.now() - t0 < 10_000, `failed in ${Date.now() - t0} ms`);
});

test('a claim whose connection stops answering fails after the query timeout; the log works again after', { timeout: 60_000 }, async () => {
  const url = testServices().databaseUrl;
  const target = new URL(url);
  const proxy = await startTcpProxy(target.hostname, Number(target.port));
  const schema = `apex_saga_to_${randomBytes(5).toString('hex')}`;
  const log = await PostgresSagaLog.open({
    connectionString: viaProxy(url, proxy),
    schema,
    poolSize: 2,
    connection: { queryTimeoutMs: 1_500 },
  });
  try {
    const stalled = proxy.stallOn('WITH due AS');
    const t0 = Date.now();
    await assert.rejects(log.claim({ owner: 'w', leaseMs: 1_000, limit: 4, includePending: true }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'LOG_FAILURE');
      assert.match((err as Error).message, /did not answer within 1500 ms \(APEX_SAGA_LOG_TIMEOUT_MS\)/);
      return true;
    });
    await stalled;
    assert.ok(Date.now() - t0 < 10_000, `failed in ${Date.now() - t0} ms`);
    // The stalled connection was dropped, not pooled: the next claim runs on a fresh one.
    assert.deepEqual(await log.claim({ owner: 'w', leaseMs: 1_000, limit: 4, includePending: true }), []);
  } finally {
    await log.close();
    await proxy.close();
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
  }
});

test(
  'the CLI with SAGA_LOG_URL on a server that never answers exits with a clear error instead of hanging',
  { timeout: 90_000 },
  async () => {
    const silent = await silentServer();
    after(() => silent.close());
    const dataDir = mkdtempSync(join(tmpdir(), 'apex-silent-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));
    const t0 = Date.now();
    const child = spawnCli(['sagas', 'list'], {
      APEX_DATA_DIR: dataDir,
      SAGA_LOG_URL: `postgresql://apex:secret-pw@127.0.0.1:${silent.port}/apex_test`,
      APEX_SAGA_LOG_CONNECT_TIMEOUT_MS: '1000',
    });
    const killer = setTimeout(() => child.child.kill('SIGKILL'), 70_000);
    const run = await child.exited;
    clearTimeout(killer);
    assert.notEqual(run.code, 0, `exit ${run.code}`);
    assert.match(run.stderr, /LOG_FAILURE.*no answer from the server within 1000 ms/);
    assert.doesNotMatch(run.stderr + run.stdout, /secret-pw/);
    // Generous: a hang is the failure looked for; the CLI's start-up alone takes seconds on a loaded machine.
    assert.ok(Date.now() - t0 < 60_000, `exited after ${Date.now() - t0} ms`);
  },
);
