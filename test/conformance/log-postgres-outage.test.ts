// The PostgreSQL saga log when its server goes away mid-commit: connections checked out for a
// group commit or a migration see their socket die. pg emits that as an 'error' event on the
// client besides rejecting the query; unheard, the event crashed the whole process (found by the
// outage test: `apex-memory ingest` died when the saga log's server was stopped). Here the log
// runs through a TCP proxy that is cut while sagas are committing: their calls fail, the process
// lives, and once the proxy is back new sagas complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { SagaEngine, defineSaga } from '../../src/saga/index.js';
import { testServices } from '../support/services.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(
  'the saga log server cut while group commits are in flight: calls fail, the process does not crash, the log works again after',
  { timeout: 120_000 },
  async () => {
    const url = testServices().databaseUrl;
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port));
    const schema = `apex_saga_cut_${randomBytes(5).toString('hex')}`;
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => {
      uncaught.push(err);
    };
    process.on('uncaughtException', onUncaught);
    const log = await PostgresSagaLog.open({ connectionString: viaProxy(url, proxy), schema, poolSize: 4 });
    const engine = new SagaEngine({ log, heartbeatMs: 0 });
    const saga = defineSaga<{ i: number }>('cut', 1)
      .step({
        name: 'a',
        run: async () => {
          await sleep(5);
          return 1;
        },
        compensate: async () => {},
      })
      .step({
        name: 'b',
        run: async () => {
          await sleep(5);
          return 2;
        },
        compensate: async () => {},
      })
      .step({ name: 'c', kind: 'pivot', run: async () => 3 })
      .build();
    engine.register(saga);
    try {
      // Many sagas at once keep group commits in flight on several connections.
      const running = Array.from({ length: 200 }, (_, i) =>
        engine.execute(saga, { i }).then(
          (r) => r.status,
          (e: unknown) => (e as { code?: string }).code ?? 'error',
        ),
      );
      await sleep(40);
      proxy.cutNow();
      const outcomes = await Promise.all(running);
      await sleep(500); // late socket events arrive after the calls have failed
      assert.deepEqual(uncaught.map(String), [], 'no socket error reached the process as an uncaught exception');
      assert.ok(
        outcomes.some((o) => o !== 'completed'),
        `the cut hit sagas in flight: ${JSON.stringify(outcomes.slice(0, 5))}`,
      );
      proxy.restore();
      // The pools drop the broken connections; a new saga completes once the server is reachable.
      let after = '';
      for (let i = 0; i < 40 && after !== 'completed'; i++) {
        after = await engine.execute(saga, { i: 1000 + i }).then(
          (r) => r.status,
          () => 'error',
        );
        if (after !== 'completed') await sleep(250);
      }
      assert.equal(after, 'completed');
    } finally {
      process.off('uncaughtException', onUncaught);
      await engine.close().catch(() => undefined);
      await log.close().catch(() => undefined);
      await proxy.close();
      const admin = new pg.Pool({ connectionString: url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.end());
    }
  },
);
