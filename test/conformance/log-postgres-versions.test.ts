// Engine semantics on the PostgreSQL log (real server; own schema, dropped afterwards):
// a mixed-version fleet (worker A registers v1 only, worker B v1 and v2: A never claims a v2 saga
// and every saga finishes), settle woken by LISTEN/NOTIFY, and crash-fast takeover of a dead
// owner's sagas under a live lease.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { WorkerLoop } from '../../src/fleet/worker-loop.js';
import { SagaEngine, defineSaga } from '../../src/saga/index.js';
import { testServices } from '../support/services.js';
import { deadOwnerId } from '../support/saga-semantics.js';

const url = testServices().databaseUrl;
const admin = new pg.Pool({ connectionString: url, max: 2 });
after(() => admin.end());

async function withSchema(body: (open: () => Promise<PostgresSagaLog>) => Promise<void>): Promise<void> {
  const schema = `apex_saga_v_${randomBytes(6).toString('hex')}`;
  const logs: PostgresSagaLog[] = [];
  try {
    await body(async () => {
      const log = await PostgresSagaLog.open({ connectionString: url, schema, poolSize: 4 });
      logs.push(log);
      return log;
    });
  } finally {
    await Promise.all(logs.map((l) => l.close().catch(() => undefined)));
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

const def = (version: number) =>
  defineSaga<{ i: number }>('order', version)
    .step({ name: 'reserve', run: async () => ({ v: version }), compensate: async () => {} })
    .step({ name: 'commit', kind: 'pivot', run: async () => version })
    .build();

describe('engine semantics on PostgreSQL', () => {
  it('mixed-version fleet: A (v1) never claims v2; B (v1 + v2) does; all sagas finish', async () => {
    await withSchema(async (open) => {
      const api = new SagaEngine({ log: await open(), owner: 'api' });
      const N = 40;
      for (let i = 0; i < N; i++) await api.submit(def(i % 2 === 0 ? 1 : 2), { i }, { sagaId: `mv-${i}` });
      const claimedBy: Record<string, Array<number>> = { A: [], B: [] };
      const engine = async (name: 'A' | 'B', versions: number[]) => {
        const e = new SagaEngine({ log: await open(), owner: `worker-${name}`, leaseMs: 5_000 });
        e.register(...versions.map(def));
        e.addHooks({ onClaim: (ev) => void claimedBy[name]?.push(ev.version) });
        return e;
      };
      const a = new WorkerLoop({ engine: await engine('A', [1]), concurrency: 4, pollMs: 20, warn: () => undefined });
      // A starts alone: it must leave the v2 sagas pending however long it polls.
      const runA = a.start();
      const probe = await open();
      for (let t0 = Date.now(); (await probe.count({ version: 1, status: 'completed' })) < N / 2 && Date.now() - t0 < 30_000; ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(await probe.count({ version: 1, status: 'completed' }), N / 2);
      assert.equal(await probe.count({ version: 2, status: 'pending' }), N / 2, 'v2 sagas wait for a worker that has v2');
      const b = new WorkerLoop({ engine: await engine('B', [1, 2]), concurrency: 4, pollMs: 20, warn: () => undefined });
      const runB = b.start();
      for (let t0 = Date.now(); (await probe.count({ status: 'completed' })) < N && Date.now() - t0 < 30_000; ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      await Promise.all([a.stop({ graceMs: 1_000 }), b.stop({ graceMs: 1_000 })]);
      await Promise.all([runA, runB]);
      assert.equal(await probe.count({ status: 'completed' }), N, 'every saga finished');
      assert.deepEqual(
        claimedBy.A?.filter((v) => v !== 1),
        [],
        'A never claimed a v2 saga',
      );
      assert.ok((claimedBy.B ?? []).includes(2));
    });
  });

  it('settle is woken by LISTEN/NOTIFY, and takes over a dead owner at once (crash-fast)', async () => {
    await withSchema(async (open) => {
      const log = await open();
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      const slow = defineSaga<{ i: number }>('slow', 1)
        .step({ name: 'a', run: async () => held, compensate: async () => {} })
        .build();
      const owner = new SagaEngine({ log, owner: 'owner' });
      const running = owner.execute(slow, { i: 1 }, { sagaId: 'n1' });
      const waiter = new SagaEngine({ log: await open(), owner: 'waiter' });
      const waited = waiter.settle('n1');
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      release();
      assert.equal((await waited).status, 'completed');
      assert.ok(Date.now() - t0 < 900, 'woken by the notification, not by the 1 s fallback timeout');
      await running;

      await log.begin({
        sagaId: 'dead1',
        name: 'order',
        version: 1,
        input: { i: 1 },
        status: 'running',
        owner: deadOwnerId(),
        leaseMs: 600_000,
      });
      const rescuer = new SagaEngine({ log, owner: undefined }).register(def(1));
      const t1 = Date.now();
      assert.equal((await rescuer.settle('dead1')).status, 'completed');
      assert.ok(Date.now() - t1 < 5_000, 'no wait for the 10 minute lease');
      await Promise.all([owner.close(), waiter.close(), rescuer.close()]);
    });
  });
});
