import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, defineSaga, type SagaDefinition } from '../../src/saga/index.js';

/** A clock the test moves by hand, so lease expiry needs no real waiting. */
function manualTime(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

interface Gate {
  open: () => void;
  wait: Promise<void>;
}
function gate(): Gate {
  let open = (): void => {};
  const wait = new Promise<void>((r) => (open = r));
  return { open, wait };
}

/** a, b (blocks on `hold` the first time), pivot p, then retriable r. Records every call. */
function sagaWithGate(
  calls: string[],
  hold: Gate,
  blockStep: string,
  onInterrupt: 'resume' | 'compensate' = 'resume',
): SagaDefinition<{ id: string }, Record<string, unknown>> {
  const step = (name: string) => ({
    name,
    run: async () => {
      calls.push(`run:${name}`);
      if (name === blockStep && calls.filter((c) => c === `run:${name}`).length === 1) await hold.wait;
      return name;
    },
    compensate: async () => {
      calls.push(`comp:${name}`);
    },
  });
  return defineSaga<{ id: string }>('gated', 1, { onInterrupt })
    .step(step('a'))
    .step(step('b'))
    .step({ ...step('p'), kind: 'pivot', compensate: undefined })
    .step({ ...step('r'), kind: 'retriable', compensate: undefined })
    .build() as unknown as SagaDefinition<{ id: string }, Record<string, unknown>>;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), 'condition not reached');
}

test('a saga interrupted before the pivot is resumed by the next owner (the step in doubt runs again); the stale owner is fenced', async () => {
  const time = manualTime();
  const log = new MemorySagaLog({ now: time.now });
  const calls: string[] = [];
  const hold = gate();
  const saga = sagaWithGate(calls, hold, 'b');
  const first = new SagaEngine({ log, owner: 'first', leaseMs: 1_000, heartbeatMs: 0 });
  const firstRun = first.execute(saga, { id: 'x' }, { sagaId: 'g0' });
  await until(() => calls.includes('run:b'));
  const second = new SagaEngine({ log, owner: 'second', leaseMs: 1_000, heartbeatMs: 0 }).register(saga);
  assert.equal(await second.recover(), 0, 'a live lease is not claimed');
  time.advance(1_001);
  assert.equal(await second.recover(), 1);
  await second.idle();
  assert.deepEqual(calls, ['run:a', 'run:b', 'run:b', 'run:p', 'run:r'], 'b ran again (attempt 2), nothing compensated');
  const stored = await log.load('g0');
  assert.equal(stored?.status, 'completed');
  assert.deepEqual(
    stored?.records.flatMap((r) => (r.type === 'step_started' && r.step === 'b' ? [r.attempt] : [])),
    [1, 2],
    'the re-run is attempt 2 in the log',
  );
  hold.open();
  const outcome = await firstRun;
  assert.equal(outcome.status, 'completed', 'the stale owner reports the outcome the new owner reached');
  assert.equal(calls.length, 5, 'the stale owner ran nothing more');
});

test("onInterrupt: 'compensate' rolls an interrupted saga back instead; the stale owner is fenced", async () => {
  const time = manualTime();
  const log = new MemorySagaLog({ now: time.now });
  const calls: string[] = [];
  const hold = gate();
  const saga = sagaWithGate(calls, hold, 'b', 'compensate');
  const first = new SagaEngine({ log, owner: 'first', leaseMs: 1_000, heartbeatMs: 0 });
  const firstRun = first.execute(saga, { id: 'x' }, { sagaId: 'g1' });
  await until(() => calls.includes('run:b'));

  const second = new SagaEngine({ log, owner: 'second', leaseMs: 1_000, heartbeatMs: 0 }).register(saga);
  assert.equal(await second.recover(), 0, 'a live lease is not claimed');
  time.advance(1_001);
  assert.equal(await second.recover(), 1);
  await second.idle();
  assert.deepEqual(calls, ['run:a', 'run:b', 'comp:b', 'comp:a']);
  assert.equal((await log.load('g1'))?.status, 'compensated');

  // The first owner wakes up: its next append is rejected, it writes nothing and reports the
  // outcome the new owner reached.
  hold.open();
  const outcome = await firstRun;
  assert.equal(outcome.status, 'compensated');
  assert.deepEqual(calls, ['run:a', 'run:b', 'comp:b', 'comp:a'], 'the stale owner ran nothing more');
});

test('a saga interrupted after the pivot is rolled forward; a pivot in doubt is run again', async () => {
  for (const blockStep of ['r', 'p']) {
    const time = manualTime();
    const log = new MemorySagaLog({ now: time.now });
    const calls: string[] = [];
    const hold = gate();
    const saga = sagaWithGate(calls, hold, blockStep);
    const first = new SagaEngine({ log, owner: 'first', leaseMs: 1_000, heartbeatMs: 0 });
    void first.execute(saga, { id: 'x' }, { sagaId: 'g2' }).catch(() => undefined);
    await until(() => calls.includes(`run:${blockStep}`));
    time.advance(1_001);
    const second = new SagaEngine({ log, owner: 'second', leaseMs: 1_000, heartbeatMs: 0 }).register(saga);
    assert.equal(await second.recover(), 1);
    await second.idle();
    assert.equal((await log.load('g2'))?.status, 'completed', `blocked at ${blockStep}`);
    assert.ok(!calls.some((c) => c.startsWith('comp:')), 'nothing compensated');
    assert.equal(calls.filter((c) => c === 'run:a').length, 1, 'steps that succeeded are not run again');
    assert.equal(calls.filter((c) => c === `run:${blockStep}`).length, 2, 'the step in doubt is run again');
    hold.open();
  }
});

test('the heartbeat keeps a long step owned; a lost lease aborts the step through its signal', async () => {
  const log = new MemorySagaLog();
  let aborted = false;
  /** A saga of one step that takes `ms` unless its signal aborts it first. */
  const slowSaga = (name: string, ms: number) =>
    defineSaga(name, 1)
      .step({
        name: 'slow',
        run: (ctx) =>
          new Promise<string>((resolve, reject) => {
            const t = setTimeout(() => resolve('done'), ms);
            ctx.signal.addEventListener('abort', () => {
              aborted = true;
              clearTimeout(t);
              reject(ctx.signal.reason as Error);
            });
          }),
        compensate: async () => {},
      })
      .build();
  const saga = slowSaga('long', 300);
  const e = new SagaEngine({ log, owner: 'hb', leaseMs: 90, heartbeatMs: 20 });
  const out = await e.execute(saga, {}, { sagaId: 'hb1' });
  assert.equal(out.status, 'completed', 'renewals kept the lease past its 90 ms');
  assert.equal(aborted, false);

  // Now a rival claims the saga while the step runs: the owner's heartbeat finds the lease gone.
  const saga2 = slowSaga('long2', 2_000);
  const stale = new SagaEngine({ log, owner: 'stale', leaseMs: 60_000, heartbeatMs: 20 });
  const pending = stale.execute(saga2, {}, { sagaId: 'hb2' });
  await new Promise((r) => setTimeout(r, 30));
  const rival = new SagaEngine({ log, owner: 'rival', leaseMs: 60_000, heartbeatMs: 0 }).register(saga2);
  // Force the lease to lapse by releasing it as if the stale owner had stopped.
  await log.release('stale', [{ sagaId: 'hb2', fencingToken: 1 }]);
  assert.equal(await rival.recover(), 1);
  await rival.idle();
  const outcome = await pending;
  assert.equal(aborted, true, 'the stale attempt was aborted');
  assert.equal(outcome.status, 'completed', 'the rival resumed the interrupted saga and finished it');
});

test('close() stops running sagas without writing and releases them for another owner', async () => {
  const log = new MemorySagaLog();
  const calls: string[] = [];
  const hold = gate();
  const saga = sagaWithGate(calls, hold, 'b');
  const e = new SagaEngine({ log, owner: 'closing', leaseMs: 60_000 });
  const run = e.execute(saga, { id: 'x' }, { sagaId: 'c1' });
  await until(() => calls.includes('run:b'));
  const before = (await log.load('c1'))?.records.length;
  const closing = e.close();
  hold.open(); // the cut attempt settles (close waits for it rather than its 15 s grace)
  await closing;
  await assert.rejects(run);
  assert.equal((await log.load('c1'))?.records.length, before, 'nothing written after shutdown');
  const next = new SagaEngine({ log, owner: 'next', leaseMs: 60_000 }).register(saga);
  assert.equal(await next.recover(), 1, 'released at once, no lease wait');
  await next.idle();
  assert.equal((await log.load('c1'))?.status, 'completed', 'a deploy resumes in-flight sagas instead of rolling them back');
  assert.deepEqual(calls, ['run:a', 'run:b', 'run:b', 'run:p', 'run:r']);
  hold.open();
});

test('submitted sagas wait as pending until a worker claims them', async () => {
  const log = new MemorySagaLog();
  const calls: string[] = [];
  const saga = sagaWithGate(calls, { open: () => {}, wait: Promise.resolve() }, 'none');
  const api = new SagaEngine({ log, owner: 'api' });
  const a = await api.submit(saga, { id: '1' }, { sagaId: 'q1' });
  const again = await api.submit(saga, { id: '1' }, { sagaId: 'q1' });
  assert.deepEqual([a.created, again.created], [true, false]);
  assert.equal((await log.load('q1'))?.status, 'pending');
  assert.equal(calls.length, 0);
  const worker = new SagaEngine({ log, owner: 'worker' }).register(saga);
  assert.equal(await worker.recover({ includePending: false }), 0);
  assert.equal(await worker.recover({ includePending: true }), 1);
  await worker.idle();
  const out = await api.waitFor('q1');
  assert.equal(out.status, 'completed');
  assert.deepEqual(calls, ['run:a', 'run:b', 'run:p', 'run:r']);
});

test('a worker that loses a recovered saga frees its slot at once instead of waiting for the new owner', async () => {
  const log = new MemorySagaLog();
  const saga = defineSaga('slowq', 1)
    .step({
      name: 'slow',
      run: (ctx) =>
        new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => resolve('done'), 1_500);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(ctx.signal.reason as Error);
          });
        }),
      // The new owner (a newer token) takes its time, so an old owner waiting for its outcome
      // would hold its slot for a second.
      compensate: async (ctx) => {
        if (ctx.fencingToken > 1) await new Promise((r) => setTimeout(r, 1_000));
      },
    })
    .build();
  await new SagaEngine({ log, owner: 'api' }).submit(saga, {}, { sagaId: 'q-slow' });
  const first = new SagaEngine({ log, owner: 'first', leaseMs: 60_000, heartbeatMs: 20 }).register(saga);
  assert.equal(await first.recover({ includePending: true }), 1);
  await new Promise((r) => setTimeout(r, 30));
  const held = (await log.load('q-slow'))?.fencingToken ?? 0;
  await log.release('first', [{ sagaId: 'q-slow', fencingToken: held }]);
  const second = new SagaEngine({ log, owner: 'second', leaseMs: 60_000, heartbeatMs: 0 }).register(saga);
  assert.equal(await second.recover(), 1);
  const t0 = Date.now();
  while (first.activeCount > 0 && Date.now() - t0 < 500) await new Promise((r) => setTimeout(r, 10));
  assert.equal(first.activeCount, 0, 'the fenced run let go');
  assert.equal(second.activeCount, 1, 'while the new owner is still working');
  await second.idle();
  assert.equal((await log.load('q-slow'))?.status, 'completed');
});
