// The engine's surface (issue 20): the watch handle (wait for a saga without taking it over),
// timers on the engine's Clock (a test clock drives step timeouts and deadlines), and the injectable
// runtime (owner id, dead-owner check). Memory and SQLite logs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineSaga, type Clock, type EngineRuntime, type SagaError } from '../../src/saga/index.js';
import { BACKENDS, engineOn, gate, until, untilAborted } from '../support/saga-semantics.js';

const code = (c: string) => (err: SagaError) => err.code === c;

function twoSteps(hold?: Promise<void>) {
  return defineSaga<{ k: number }>('watched')
    .step({
      name: 'a',
      run: async () => {
        if (hold) await hold;
        return 'a';
      },
      compensate: async () => undefined,
    })
    .step({ name: 'b', run: async () => 'b', compensate: async () => undefined })
    .build();
}

/** A clock whose timers fire only when the test says so (sleep stays real: polling still works). */
function testClock(base: Clock): Clock & { fire: (ms?: number) => number; pending: () => number } {
  const timers = new Map<() => void, number>();
  return {
    now: base.now,
    sleep: base.sleep,
    random: () => 0.5,
    timer(ms, fn) {
      timers.set(fn, ms);
      return () => void timers.delete(fn);
    },
    /** Fires the timers set for at least `ms` (all by default); returns how many fired. */
    fire(ms = 0) {
      const due = [...timers].filter(([, at]) => at >= ms).map(([fn]) => fn);
      for (const fn of due) timers.delete(fn);
      for (const fn of due) fn();
      return due.length;
    },
    pending: () => timers.size,
  };
}

for (const backend of BACKENDS) {
  describe(`engine surface on ${backend.name}: watch handle, clock timers, runtime`, () => {
    it("watch(id).result() waits for another engine's saga and never runs it, even when nobody holds it", async () => {
      const t = backend.open();
      const calls: string[] = [];
      const api = engineOn(t, { owner: 'api' }).register(twoSteps());
      // Queued (pending, no owner): settle() would run it here; the watcher must leave it alone.
      await api.submit(twoSteps(), { k: 1 }, { sagaId: 'w1' });
      const handle = api.watch('w1');
      assert.equal(await handle.outcome(), undefined, 'still pending');
      await assert.rejects(handle.result({ timeoutMs: 120 }), code('SAGA_WAIT_TIMEOUT'));
      assert.equal((await t.log.load('w1'))?.status, 'pending', 'the watcher did not claim it');
      assert.deepEqual(calls, []);
      // A worker runs it; the waiting handle sees the end.
      const waiting = handle.result({ timeoutMs: 10_000 });
      const worker = engineOn(t, { owner: 'worker' }).register(twoSteps());
      assert.equal(await worker.recover({ includePending: true }), 1);
      const out = await waiting;
      assert.deepEqual([out.status, out.sagaId], ['completed', 'w1']);
      assert.equal((await api.outcomeOf('w1'))?.status, 'completed', "outcomeOf is the handle's outcome()");
      await assert.rejects(api.watch('nope').result({ timeoutMs: 50 }), code('SAGA_NOT_FOUND'));
      // An aborted wait rejects with the signal's reason.
      await api.submit(twoSteps(), { k: 2 }, { sagaId: 'w2' });
      const ac = new AbortController();
      const aborted = api.watch('w2').result({ signal: ac.signal });
      ac.abort(new Error('client went away'));
      await assert.rejects(aborted, /client went away/);
      await worker.close();
      await api.close();
      await t.log.close();
    });

    it('watch(id).result() on a saga running in this engine answers from the run itself', async () => {
      const t = backend.open();
      const g = gate();
      const e = engineOn(t).register(twoSteps(g.wait));
      const running = e.execute(twoSteps(g.wait), { k: 1 }, { sagaId: 'l1' });
      await until(async () => (await t.log.load('l1')) !== undefined);
      await assert.rejects(e.watch('l1').result({ timeoutMs: 30 }), code('SAGA_WAIT_TIMEOUT'));
      const waiting = e.watch('l1').result();
      g.open();
      assert.equal((await waiting).status, 'completed');
      assert.equal((await running).status, 'completed');
      await e.close();
      await t.log.close();
    });

    it("step timeouts and deadlines run on the engine clock's timers", async () => {
      const t = backend.open();
      const clock = testClock({
        now: t.now,
        sleep: (ms, s) =>
          new Promise((r, j) => {
            const h = setTimeout(r, ms);
            s?.addEventListener('abort', () => {
              clearTimeout(h);
              j(s.reason as Error);
            });
          }),
        random: () => 0.5,
      });
      const hang = defineSaga<{ k: number }>('hangs')
        .step({
          name: 'a',
          run: (ctx) => untilAborted(ctx.signal),
          compensate: async () => undefined,
          timeoutMs: 3_600_000,
          retry: { maxAttempts: 1 },
        })
        .step({ name: 'p', kind: 'pivot', run: async () => 'p' })
        .build();
      const e = engineOn(t, { clock }).register(hang);
      // A one-hour step timeout: on real time this test would hang; the test clock fires it now.
      const run = e.execute(hang, { k: 1 }, { sagaId: 't1' });
      await until(() => clock.pending() > 0);
      assert.equal(clock.fire(), 1, 'one step timer');
      const out = await run;
      assert.equal(out.status, 'compensated');
      assert.equal(out.reason?.code, 'STEP_TIMEOUT');
      // A deadline a day away: cancelled by the clock's timer, not by waiting a day.
      const deadlined = e.execute(hang, { k: 2 }, { sagaId: 't2', deadline: t.now() + 86_400_000 });
      await until(() => clock.pending() >= 2); // the deadline and the step timeout
      assert.equal(clock.fire(80_000_000), 1, 'only the deadline timer is that long');
      const d = await deadlined;
      assert.equal(d.status, 'compensated');
      assert.equal(d.reason?.code, 'SAGA_DEADLINE');
      await e.close();
      await t.log.close();
    });

    it('the runtime is injectable: owner id and the dead-owner check come from EngineOptions.runtime', async () => {
      const t = backend.open();
      const asked: string[] = [];
      const runtime: EngineRuntime = { ownerId: () => 'edge-worker-7', isDeadOwner: (o) => (asked.push(o), o === 'gone') };
      const e = engineOn(t, { runtime, owner: undefined });
      e.register(twoSteps());
      assert.equal(e.owner, 'edge-worker-7');
      // A saga held (long lease) by an owner the runtime says is dead is taken at once by settle.
      await t.log.begin({ sagaId: 'r1', name: 'watched', version: 1, input: { k: 1 }, status: 'running', owner: 'gone', leaseMs: 600_000 });
      assert.equal((await e.settle('r1', { timeoutMs: 5_000 })).status, 'completed');
      assert.ok(asked.includes('gone'));
      // One the runtime says is alive is not: settle waits, and times out.
      await t.log.begin({
        sagaId: 'r2',
        name: 'watched',
        version: 1,
        input: { k: 1 },
        status: 'running',
        owner: 'alive',
        leaseMs: 600_000,
      });
      await assert.rejects(e.settle('r2', { timeoutMs: 100 }), code('SAGA_WAIT_TIMEOUT'));
      await e.close();
      await t.log.close();
    });
  });
}
