// A worker loses its PostgreSQL saga log for 10 s (its connection goes through a TCP proxy that
// is cut, refusing every connection, then restored). The worker must stay up (no crash, no
// unhandled rejection), warn in one line without secrets, and resume on its own: every saga
// submitted before or during the outage ends completed or compensated (sagas caught mid-step by
// the cut roll back, as after any crash before the pivot), and verify is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { submitIngest } from '../../src/fleet/submit.js';
import { realStores } from '../support/real-stores.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';
import { LogProbe, makeDoc, sleep, spawnWorker } from '../fleet/harness.js';

const BEFORE = 100;
const DURING = 100;
const OUTAGE_MS = 10_000;

test(
  'fleet: a worker survives a 10 s outage of its PostgreSQL saga log and finishes everything afterwards',
  { timeout: 120_000 },
  async () => {
    const env = await realStores('fleet_outage', 13, { sagaLogOnPostgres: true });
    const pgUrl = new URL(env.databaseUrl);
    const proxy = await startTcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: 2_000 });
    const probe = LogProbe.open(env.databaseUrl);
    const w = spawnWorker({
      APEX_FLEET_CONFIG: JSON.stringify(env.config),
      APEX_FLEET_SAGA_LOG_URL: viaProxy(env.databaseUrl, proxy),
      APEX_FLEET_LEASE_MS: '2000',
      APEX_FLEET_CONCURRENCY: '8',
    });
    const finished = async (): Promise<number> => {
      const c = await probe.statusCounts();
      return (c.completed ?? 0) + (c.compensated ?? 0) + (c.stuck ?? 0);
    };
    try {
      await w.owner;
      for (let i = 0; i < BEFORE; i++) await submitIngest(app, makeDoc('before', i));
      while ((await finished()) < 20) await sleep(50);

      proxy.cutNow();
      const cutAt = Date.now();
      const during: string[] = [];
      for (let i = 0; i < DURING; i++) {
        const r = await submitIngest(app, makeDoc('during', i));
        if (r.sagaId) during.push(r.sagaId);
      }
      const atCut = await finished();
      await sleep(OUTAGE_MS - (Date.now() - cutAt));
      assert.equal(w.proc.exitCode, null, 'the worker is still running after the outage');
      const progressDuringOutage = (await finished()) - atCut;
      proxy.restore();
      const restoredAt = Date.now();
      console.log(`outage ${restoredAt - cutAt} ms; sagas finished while the log was unreachable: ${progressDuringOutage}`);

      const total = BEFORE + DURING;
      while ((await finished()) < total && Date.now() - restoredAt < 60_000) await sleep(100);
      const resumedMs = Date.now() - restoredAt;
      const counts = await probe.statusCounts();
      console.log(`all ${total} sagas final ${resumedMs} ms after the log came back: ${JSON.stringify(counts)}`);
      assert.equal((counts.completed ?? 0) + (counts.compensated ?? 0), total, 'every saga completed or compensated');
      const duringRows = await probe.state(during);
      assert.ok(
        duringRows.every((r) => r.status === 'completed'),
        'sagas submitted during the outage all completed',
      );

      w.proc.kill('SIGTERM');
      const exit = await w.exited;
      assert.equal(exit.code, 0, 'graceful exit after SIGTERM');
      const stderr = w.stderr.join('');
      assert.ok(!w.lines.some((l) => l.startsWith('UNHANDLED')), 'no unhandled rejection');
      // Claims that fail, or (all slots held by sagas riding the outage out) running sagas waiting on the log.
      const warnings = stderr
        .split('\n')
        .filter((l) => l.startsWith('worker: cannot claim') || l.startsWith('worker: saga log unreachable'));
      console.log(`worker warnings: ${warnings.length}, e.g. ${warnings[0] ?? '(none)'}`);
      assert.ok(warnings.length > 0, `the worker warned that the log was unreachable; its stderr: ${stderr.slice(-1500)}`);
      assert.ok(stderr.includes('saga log reachable again'), 'the worker said when the log came back');
      if (pgUrl.password) assert.ok(!stderr.includes(decodeURIComponent(pgUrl.password)), 'no password in the output');

      const report = await verifyStores(app.stores);
      assert.deepEqual(report.violations, [], 'verify reports no violation');
    } finally {
      if (w.proc.exitCode === null && w.proc.signalCode === null) w.proc.kill('SIGKILL');
      await proxy.close();
      await probe.close();
      await app.close();
      await env.close();
    }
  },
);
