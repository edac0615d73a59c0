// Engine semantics (issue 9), on the memory and SQLite logs: durable timers and time budgets,
// attempt counts that survive a takeover, concurrent operator retries, hooks on every path (with
// version and meta, one onSagaEnd per onSagaStart, async rejections caught), lease loss.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineSaga, type SagaHooks } from '../../src/saga/index.js';
import { BACKENDS, engineOn, until, untilAborted } from '../support/saga-semantics.js';

class Transient extends Error {
  readonly code = 'TRANSIENT';
  readonly retryable = true;
}

/** Counts starts and ends per saga; every start must get exactly one end. */
function ledger(): { hooks: SagaHooks; ends: string[]; open: () => number; events: string[] } {
  const inFlight = new Map<string, number>();
  const ends: string[] = [];
  const events: string[] = [];
  const hooks: SagaHooks = {
    onSagaStart: (e) => void inFlight.set(e.sagaId, (inFlight.get(e.sagaId) ?? 0) + 1),
    onSagaEnd: (e) => {
      inFlight.set(e.sagaId, (inFlight.get(e.sagaId) ?? 0) - 1);
      ends.push(e.status);
    },
    onClaim: (e) => void events.push(`claim:${e.via}`),
    onTakeover: (e) => void events.push(`takeover:${e.reason}`),
    onLeaseLost: () => void events.push('lease_lost'),
    onRetry: (e) => void events.push(`retry:${e.durable === true ? 'durable' : 'sleep'}`),
  };
  return { hooks, ends, events, open: () => [...inFlight.values()].reduce((a, b) => a + b, 0) };
}

for (const backend of BACKENDS) {
  describe(`engine semantics on ${backend.name}: budgets, timers, hooks`, () => {
    it('a long backoff is a durable timer: the saga is released, claimed again when due, and execute() still gets the outcome', async () => {
      const t = backend.open();
      const l = ledger();
      let n = 0;
      const def = defineSaga<{ k: number }>('timer', 1)
        .step({
          name: 'a',
          retry: { maxAttempts: 3, initialDelayMs: 300, maxDelayMs: 300 },
          run: async () => {
            if (++n === 1) throw new Transient('busy');
            return 'ok';
          },
          compensate: async () => {},
        })
        .build();
      const e = engineOn(t, { durableTimerThresholdMs: 50, hooks: l.hooks });
      const out = await e.execute(def, { k: 1 }, { sagaId: 't1' });
      assert.equal(out.status, 'completed');
      const failed = (await t.log.load('t1'))?.records.find((r) => r.type === 'step_failed');
      assert.ok(failed?.type === 'step_failed' && (failed.retryInMs ?? 0) > 50, 'the next attempt time is in the log');
      assert.deepEqual(l.ends, ['suspended', 'completed']);
      assert.ok(l.events.includes('retry:durable') && l.events.includes('claim:settle'));
      assert.equal(l.open(), 0, 'no in-flight leak');
      await e.close();
      await t.log.close();
    });

    it('budgetMs keeps retrying past the default attempts until the time budget is spent, then compensates', async () => {
      const t = backend.open();
      let n = 0;
      const def = defineSaga<{ k: number }>('budget', 1)
        .step({
          name: 'a',
          retry: { budgetMs: 200, initialDelayMs: 5, maxDelayMs: 10 },
          run: async () => {
            n++;
            throw new Transient('down');
          },
          compensate: async () => {},
        })
        .build();
      const out = await engineOn(t).execute(def, { k: 1 });
      assert.equal(out.status, 'compensated');
      assert.ok(n > 3, `more attempts than the default 3 (${n})`);
      const started = (await t.log.load(out.sagaId))?.records.filter((r) => r.type === 'step_started') ?? [];
      // The first step_started rides with begin; every retry carries the first attempt's time.
      assert.ok(
        started.slice(1).every((r) => r.type === 'step_started' && typeof r.since === 'number'),
        'the first attempt time is persisted',
      );
      await t.log.close();
    });

    it('attempt counts survive a takeover: the new owner continues the count and the budget', async () => {
      const t = backend.open();
      const attempts: number[] = [];
      const def = defineSaga<{ k: number }>('count', 1)
        .step({
          name: 'a',
          retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
          run: async (ctx) => {
            attempts.push(ctx.attempt);
            if (ctx.fencingToken === 1) {
              if (ctx.attempt === 1) throw new Transient('once');
              return untilAborted(ctx.signal); // attempt 2: the owner "dies" here
            }
            throw new Transient('still');
          },
          compensate: async () => {},
        })
        .build();
      const first = engineOn(t, { leaseMs: 1_000 });
      void first.execute(def, { k: 1 }, { sagaId: 'ac1' }).catch(() => undefined);
      await until(() => attempts.length === 2);
      t.advance(1_001);
      const second = engineOn(t).register(def);
      assert.equal(await second.recover(), 1);
      await second.idle();
      assert.deepEqual(attempts, [1, 2, 3], 'attempt 3 was the last of the budget of 3, not a fresh 3');
      assert.equal((await t.log.load('ac1'))?.status, 'compensated');
      await first.close();
      await t.log.close();
    });

    it('two concurrent operator retries of one stuck saga run it once; both get the real outcome', async () => {
      const t = backend.open();
      let failComp = true;
      let comps = 0;
      const def = defineSaga<{ k: number }>('stuckr', 1)
        .step({
          name: 'a',
          compensationRetry: { maxAttempts: 1 },
          run: async () => 'a',
          compensate: async () => {
            comps++;
            if (failComp) throw new Error('no');
            await new Promise((r) => setTimeout(r, 50));
          },
        })
        .step({ name: 'b', run: async () => Promise.reject(new Error('fails')), compensate: async () => {} })
        .build();
      const e = engineOn(t);
      const out = await e.execute(def, { k: 1 }, { sagaId: 'st1' });
      assert.equal(out.status, 'stuck');
      failComp = false;
      const other = engineOn(t, { owner: 'other-operator' }).register(def);
      const [x, y] = await Promise.all([e.retryStuck('st1'), other.retryStuck('st1')]);
      assert.deepEqual([x.status, y.status], ['compensated', 'compensated']);
      assert.equal(comps, 2, 'the failing attempt plus exactly one retry');
      await e.close();
      await other.close();
      await t.log.close();
    });

    it('hooks fire on every path with version and meta; a rejecting async hook is ignored; lease loss stops the run', async () => {
      const t = backend.open();
      const l = ledger();
      const metas: Array<Record<string, string> | undefined> = [];
      const rejecting: SagaHooks = {
        onStepStart: async () => Promise.reject(new Error('async hook bug')),
        onSagaStart: (e) => void metas.push(e.meta),
      };
      const def = defineSaga<{ k: number }>('hooks', 3)
        .step({ name: 'a', run: async (ctx) => (ctx.input.k === 2 ? untilAborted(ctx.signal) : 'a'), compensate: async () => {} })
        .build();
      const renewFails = Object.create(t.log) as typeof t.log;
      renewFails.renew = () => Promise.reject(new Error('log unreachable'));
      const e = engineOn({ ...t, log: renewFails }, { hooks: [l.hooks, rejecting], leaseMs: 200, heartbeatMs: 50 });
      const meta = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };
      const ok = await e.execute(def, { k: 1 }, { sagaId: 'h1', meta });
      assert.equal(ok.status, 'completed');
      assert.deepEqual((await t.log.load('h1'))?.meta, meta);
      assert.deepEqual(metas, [meta]);
      // Renewals fail: before the lease runs out the run is aborted and writes nothing more.
      await assert.rejects(e.execute(def, { k: 2 }, { sagaId: 'h2' }), (err: { code?: string }) => err.code === 'SAGA_LEASE_LOST');
      assert.ok(l.events.includes('lease_lost'));
      assert.equal((await t.log.load('h2'))?.status, 'running', 'nothing written after the lease was given up');
      assert.deepEqual(l.ends, ['completed', 'lease_lost']);
      assert.equal(l.open(), 0);
      await e.close();
      await t.log.close();
    });
  });
}
