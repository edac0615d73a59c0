// Engine semantics (issue 9), on the memory and SQLite logs: settle (dead owner, expired lease,
// live owner elsewhere), execute() taking over a dead owner's saga, input conflicts, cancel before
// and after the pivot (here and in another engine), deadlines, crash-fast recover().
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineSaga, type SagaError, type SagaHooks } from '../../src/saga/index.js';
import { BACKENDS, deadOwnerId, engineOn, gate, until, untilAborted, type Gate } from '../support/saga-semantics.js';

/** a (held by `hold` while it is closed, unless `hold` is undefined), pivot p, retriable r. */
function saga(calls: string[], hold?: Gate, version = 1) {
  const step = (name: string) => ({
    name,
    run: async (ctx: { fencingToken: number }) => {
      calls.push(`run:${name}:${ctx.fencingToken}`);
      // Only the first run of a is held: a takeover's re-run goes through.
      if (name === 'a' && hold && !hold.opened && calls.filter((c) => c.startsWith('run:a')).length === 1) await hold.wait;
      return name;
    },
    compensate: async () => void calls.push(`comp:${name}`),
  });
  return defineSaga<{ k: number }>('sem', version)
    .step(step('a'))
    .step({ ...step('p'), kind: 'pivot', compensate: undefined })
    .step({ ...step('r'), kind: 'retriable', compensate: undefined })
    .build();
}

const code = (c: string) => (err: SagaError) => err.code === c;

for (const backend of BACKENDS) {
  describe(`engine semantics on ${backend.name}: settle, cancel, deadline, conflicts`, () => {
    it('settle and execute() take over a saga whose owner on this host is dead, at once, without waiting out the lease', async () => {
      const t = backend.open();
      const dead = deadOwnerId();
      const begun = await t.log.begin({
        sagaId: 'd1',
        name: 'sem',
        version: 1,
        input: { k: 1 },
        status: 'running',
        owner: dead,
        leaseMs: 600_000,
        records: [{ type: 'step_started', step: 'a', attempt: 1 }],
      });
      assert.ok(begun.created);
      const calls: string[] = [];
      const e = engineOn(t).register(saga(calls));
      const t0 = Date.now();
      const out = await e.settle('d1');
      assert.equal(out.status, 'completed');
      assert.ok(Date.now() - t0 < 5_000, 'no lease wait');
      assert.deepEqual(calls, ['run:a:2', 'run:p:2', 'run:r:2'], 'the interrupted step ran again under the new token');
      // execute() with the same input on the same id now just reports the outcome.
      const again = await e.execute(saga(calls), { k: 1 }, { sagaId: 'd1' });
      assert.deepEqual([again.status, again.executed], ['completed', false]);
      await assert.rejects(
        e.execute(saga(calls), { k: 2 }, { sagaId: 'd1' }),
        (err: SagaError) => err.code === 'SAGA_INPUT_CONFLICT' && /sha256:\w+.*sha256:\w+/.test(err.message),
      );
      await assert.rejects(e.settle('nope'), code('SAGA_NOT_FOUND'));
      // A dead owner's saga is also claimed at once by recover() (crash-fast on one host).
      await t.log.begin({
        sagaId: 'd2',
        name: 'sem',
        version: 1,
        input: { k: 2 },
        status: 'running',
        owner: deadOwnerId(),
        leaseMs: 600_000,
      });
      assert.equal(await e.recover(), 1);
      await e.idle();
      assert.equal((await t.log.load('d2'))?.status, 'completed');
      await e.close();
      await t.log.close();
    });

    it('settle waits for a live owner elsewhere, and takes the saga over when that lease expires', async () => {
      const t = backend.open();
      const calls: string[] = [];
      const hold = gate();
      const a = engineOn(t, { owner: 'engine-a', leaseMs: 1_000 });
      const first = a.execute(saga(calls, hold), { k: 1 }, { sagaId: 's1' });
      await until(() => calls.length === 1);
      const b = engineOn(t, { owner: 'engine-b', leaseMs: 1_000 }).register(saga(calls, hold));
      await assert.rejects(b.settle('s1', { timeoutMs: 100 }), code('SAGA_WAIT_TIMEOUT'));
      const waiting = b.settle('s1');
      t.advance(1_500); // engine-a's lease (no heartbeat) has lapsed: b claims and resumes it
      const out = await waiting;
      assert.equal(out.status, 'completed');
      assert.deepEqual(calls.slice(1), ['run:a:2', 'run:p:2', 'run:r:2']);
      hold.open();
      assert.equal((await first).status, 'completed', 'the first caller gets the real outcome too');
      await a.close();
      await b.close();
      await t.log.close();
    });

    it('cancel before the pivot compensates (here or in another engine); after it, SAGA_NOT_CANCELLABLE', async () => {
      const t = backend.open();
      const calls: string[] = [];
      const ends: string[] = [];
      const hooks: SagaHooks = { onSagaEnd: (e) => void ends.push(`${e.sagaId}:${e.status}`) };
      const hold = gate();
      const e = engineOn(t, { hooks });
      const running = e.execute(saga(calls, hold), { k: 1 }, { sagaId: 'c1' });
      await until(() => calls.length === 1);
      const cancelling = e.cancel('c1', 'user asked');
      hold.open(); // the cut attempt settles; the engine waits for it before compensating
      const cancelled = await cancelling;
      assert.deepEqual(
        [cancelled.status, cancelled.reason?.code, cancelled.reason?.message],
        ['compensated', 'SAGA_CANCELLED', 'user asked'],
      );
      assert.equal((await running).status, 'compensated');
      assert.ok(calls.includes('comp:a') && !calls.some((c) => c.startsWith('run:p')), 'compensated, pivot never ran');
      assert.ok(ends.includes('c1:cancelled'));
      await assert.rejects(
        e
          .cancel('c1')
          .then((o) => assert.equal(o.status, 'compensated'))
          .then(() => Promise.reject(Object.assign(new Error('x'), { code: 'OK' }))),
        code('OK'),
      );

      const done = await e.execute(saga([]), { k: 2 }, { sagaId: 'c2' });
      assert.equal(done.status, 'completed');
      await assert.rejects(e.cancel('c2'), code('SAGA_NOT_CANCELLABLE'));

      // In another engine: the cancelling engine fences the owner and compensates.
      const calls3: string[] = [];
      const hold3 = gate();
      const owner = engineOn(t, { owner: 'other' });
      const remote = owner.execute(saga(calls3, hold3), { k: 3 }, { sagaId: 'c3' });
      await until(() => calls3.length === 1);
      const out = await engineOn(t, { owner: 'operator' }).register(saga(calls3, hold3)).cancel('c3');
      assert.deepEqual([out.status, out.reason?.code], ['compensated', 'SAGA_CANCELLED']);
      hold3.open();
      assert.equal((await remote).status, 'compensated', 'the fenced owner reports the real outcome');
      assert.ok(!calls3.some((c) => c.startsWith('run:p')));

      // A queued (pending) saga is cancelled without running anything.
      await e.submit(saga([]), { k: 4 }, { sagaId: 'c4' });
      assert.equal((await e.cancel('c4')).status, 'compensated');
      await e.close();
      await owner.close();
      await t.log.close();
    });

    it('a deadline that passes before the pivot compensates; the deadline is stored with the saga', async () => {
      const t = backend.open();
      const calls: string[] = [];
      const e = engineOn(t);
      const slow = defineSaga<{ k: number }>('deadline', 1)
        .step({ name: 'a', run: async () => void calls.push('a'), compensate: async () => void calls.push('comp:a') })
        .step({
          name: 'slow',
          run: async (ctx) => new Promise((_, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason as Error))),
          compensate: async () => void calls.push('comp:slow'),
        })
        .step({ name: 'p', kind: 'pivot', run: async () => void calls.push('p') })
        .build();
      const deadline = t.now() + 150;
      const out = await e.execute(slow, { k: 1 }, { sagaId: 'dl1', deadline });
      assert.deepEqual([out.status, out.reason?.code], ['compensated', 'SAGA_DEADLINE']);
      assert.deepEqual(calls, ['a', 'comp:slow', 'comp:a']);
      assert.equal((await t.log.load('dl1'))?.deadlineAt, deadline);
      await e.close();
      await t.log.close();
    });

    it('versioned claims: an engine claims only the (name, version) pairs it registered', async () => {
      const t = backend.open();
      const api = engineOn(t);
      await api.submit(saga([], undefined, 1), { k: 1 }, { sagaId: 'v1' });
      await api.submit(saga([], undefined, 2), { k: 2 }, { sagaId: 'v2' });
      const onlyV1 = engineOn(t).register(saga([], undefined, 1));
      assert.equal(await onlyV1.recover({ includePending: true }), 1);
      await onlyV1.idle();
      assert.equal(await onlyV1.recover({ includePending: true }), 0, 'v2 is never claimed, not even after its lease');
      assert.deepEqual([(await t.log.load('v1'))?.status, (await t.log.load('v2'))?.status], ['completed', 'pending']);
      const both = engineOn(t).register(saga([], undefined, 1), saga([], undefined, 2));
      assert.equal(await both.recover({ includePending: true }), 1);
      await both.idle();
      assert.equal((await t.log.load('v2'))?.status, 'completed');
      await Promise.all([api.close(), onlyV1.close(), both.close()]);
      await t.log.close();
    });

    it('a step that never returns (its process died) runs again on recovery; past recoveryLimit the saga is stuck RECOVERY_LIMIT', async () => {
      const t = backend.open();
      let poison = true;
      const runs: number[] = [];
      const def = defineSaga<{ k: number }>('poison', 1)
        .step({
          name: 'a',
          run: async (ctx) => (runs.push(ctx.attempt), poison ? untilAborted(ctx.signal) : 'ok'),
          compensate: async () => {},
        })
        .build();
      const engines = [engineOn(t, { leaseMs: 1_000, recoveryLimit: 2 })];
      void engines[0]?.execute(def, { k: 1 }, { sagaId: 'poison1' }).catch(() => undefined);
      for (let i = 0; i < 3; i++) {
        await until(() => runs.length === i + 1);
        t.advance(1_001);
        const next = engineOn(t, { leaseMs: 1_000, recoveryLimit: 2 }).register(def);
        engines.push(next);
        assert.equal(await next.recover(), 1);
      }
      await engines.at(-1)?.idle();
      const stuck = await t.log.load('poison1');
      assert.deepEqual([stuck?.status, stuck?.reason?.code], ['stuck', 'RECOVERY_LIMIT']);
      assert.deepEqual(runs, [1, 2, 3], 'two recoveries ran the step, the third stopped it');
      poison = false;
      const retried = await engineOn(t).register(def).retryStuck('poison1');
      assert.equal(retried.status, 'completed', 'an operator retry gets a fresh recovery budget');
      await Promise.all(engines.map((x) => x.close()));
      await t.log.close();
    });
  });
}
