import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import type { SagaError } from '../../src/saga/index.js';
import { SagaEngine, defineSaga, type SagaHooks } from '../../src/saga/index.js';
import { planSaga, traceOf, TestError, type StepPlan } from '../support/saga-fixtures.js';

const FOUR = ['a', 'b', 'c', 'd'];

function engine(log = new MemorySagaLog(), hooks?: SagaHooks): SagaEngine {
  return new SagaEngine({ log, leaseMs: 5_000, hooks });
}

test('a saga whose steps all succeed completes, with typed results of earlier steps', async () => {
  const saga = defineSaga<{ x: number }>('typed', 1)
    .step({ name: 'one', run: async (ctx) => ({ doubled: ctx.input.x * 2 }), compensate: async () => {} })
    .step({ name: 'two', run: async (ctx) => ctx.results.one.doubled + 1, compensate: async () => {} })
    .build();
  const out = await engine().execute(saga, { x: 20 });
  assert.equal(out.status, 'completed');
  assert.deepEqual(out.results, { one: { doubled: 40 }, two: 41 });
  assert.equal(out.executed, true);
});

for (let failAt = 0; failAt < FOUR.length; failAt++) {
  for (const after of [false, true]) {
    test(`failure at step ${failAt} (${after ? 'after' : 'before'} applying) compensates exactly the started steps in reverse`, async () => {
      const trace = traceOf();
      const plans: StepPlan[] = FOUR.map((name, i) => (i === failAt ? { name, failOn: 'always', failAfterApply: after } : { name }));
      const log = new MemorySagaLog();
      const out = await engine(log).execute(planSaga('four', plans, trace), { n: 1 });
      assert.equal(out.status, 'compensated');
      assert.equal(out.reason?.code, 'TEST_FAILURE');
      const started = FOUR.slice(0, failAt + 1);
      const comps = trace.events.filter((e) => e.startsWith('comp:'));
      // The failed step is compensated too: it may have applied.
      assert.deepEqual(
        comps,
        [...started].reverse().map((s) => `comp:${s}:${s === FOUR[failAt] ? 'failed' : 'succeeded'}`),
      );
      assert.equal(trace.applied.size, 0, `effects left: ${[...trace.applied].join(',')}`);
      assert.ok(!trace.events.some((e) => FOUR.slice(failAt + 1).some((s) => e === `run:${s}:1`)), 'later steps never ran');
      const stored = await log.load(out.sagaId);
      assert.equal(stored?.status, 'compensated');
    });
  }
}

test('transient errors are retried by policy; permanent ones are not', async () => {
  const trace = traceOf();
  const saga = planSaga('retry', [{ name: 'a', failOn: [1, 2], retryable: true, maxAttempts: 3 }, { name: 'b' }], trace);
  const out = await engine().execute(saga, { n: 1 });
  assert.equal(out.status, 'completed');
  assert.deepEqual(trace.events, ['run:a:1', 'run:a:2', 'run:a:3', 'run:b:1']);

  const trace2 = traceOf();
  const saga2 = planSaga('noretry', [{ name: 'a', failOn: [1], retryable: false, maxAttempts: 3 }], trace2);
  const out2 = await engine().execute(saga2, { n: 1 });
  assert.equal(out2.status, 'compensated');
  assert.deepEqual(trace2.events, ['run:a:1', 'comp:a:failed']);
});

test('a compensation that keeps failing leaves the saga stuck with its reason; an operator retry finishes it', async () => {
  const trace = traceOf();
  const log = new MemorySagaLog();
  const plans: StepPlan[] = [
    { name: 'a', compensationFailOn: [1, 2, 3] },
    { name: 'b', failOn: 'always' },
  ];
  const e = engine(log);
  const out = await e.execute(planSaga('stuck', plans, trace), { n: 1 });
  assert.equal(out.status, 'stuck');
  assert.match(out.reason?.message ?? '', /compensation of "a" failed/);
  const stored = await log.load(out.sagaId);
  assert.equal(stored?.status, 'stuck');
  assert.ok(trace.applied.has('a'), 'a is still applied while stuck');
  // b was compensated once and is not compensated again by the retry.
  const retried = await e.retryStuck(out.sagaId);
  assert.equal(retried.status, 'compensated');
  assert.equal(trace.events.filter((x) => x.startsWith('comp:b')).length, 1);
  assert.equal(trace.applied.size, 0);
  await assert.rejects(e.retryStuck(out.sagaId), (err: SagaError) => err.code === 'SAGA_NOT_STUCK');
});

test('a step that times out is aborted and compensated as maybe applied', async () => {
  const trace = traceOf();
  const saga = planSaga('timeout', [{ name: 'a' }, { name: 'b', hangMs: 5_000, timeoutMs: 30 }], trace);
  const out = await engine().execute(saga, { n: 1 });
  assert.equal(out.status, 'compensated');
  assert.equal(out.reason?.code, 'STEP_TIMEOUT');
  assert.ok(trace.events.includes('aborted:b'), 'the step saw its signal abort');
  assert.deepEqual(
    trace.events.filter((x) => x.startsWith('comp:')),
    ['comp:b:failed', 'comp:a:succeeded'],
  );
});

test('a failing member of a parallel group aborts its siblings; every started step is compensated', async () => {
  const trace = traceOf();
  const plans: StepPlan[] = [
    { name: 'first' },
    { name: 'slow', group: 'g', hangMs: 5_000 },
    { name: 'bad', group: 'g', failOn: 'always' },
    { name: 'ok', group: 'g' },
    { name: 'never' },
  ];
  const out = await engine().execute(planSaga('par', plans, trace), { n: 1 });
  assert.equal(out.status, 'compensated');
  assert.equal(out.reason?.code, 'TEST_FAILURE', 'the reason is the failure, not the sibling abort');
  assert.ok(trace.events.includes('aborted:slow'));
  const comps = trace.events.filter((x) => x.startsWith('comp:')).map((x) => x.split(':')[1]);
  assert.deepEqual(comps, ['ok', 'bad', 'slow', 'first']);
  assert.ok(!trace.events.includes('run:never:1'));
  assert.equal(trace.applied.size, 0);
});

test('after the pivot a failing step is retried until it succeeds (roll forward)', async () => {
  const trace = traceOf();
  const plans: StepPlan[] = [
    { name: 'a' },
    { name: 'p', kind: 'pivot', noCompensation: true },
    { name: 'r', kind: 'retriable', failOn: [1, 2, 3], maxAttempts: 10 },
  ];
  const out = await engine().execute(planSaga('fwd', plans, trace), { n: 1 });
  assert.equal(out.status, 'completed');
  assert.equal(trace.events.filter((x) => x.startsWith('run:r')).length, 4);
  assert.ok(!trace.events.some((x) => x.startsWith('comp:')), 'nothing is compensated after the pivot');
});

test('after the pivot a step that runs out of attempts leaves the saga stuck; retry rolls forward', async () => {
  const trace = traceOf();
  const log = new MemorySagaLog();
  const e = engine(log);
  const plans: StepPlan[] = [
    { name: 'a' },
    { name: 'p', kind: 'pivot', noCompensation: true },
    { name: 'r', kind: 'retriable', failOn: [1, 2], maxAttempts: 2 },
  ];
  const out = await e.execute(planSaga('fwdstuck', plans, trace), { n: 1 });
  assert.equal(out.status, 'stuck');
  assert.equal((await log.load(out.sagaId))?.status, 'stuck');
  const retried = await e.retryStuck(out.sagaId);
  assert.equal(retried.status, 'completed');
  assert.ok(trace.applied.has('a') && trace.applied.has('p') && trace.applied.has('r'));
});

test('a failing pivot compensates the steps before it', async () => {
  const trace = traceOf();
  const plans: StepPlan[] = [
    { name: 'a' },
    { name: 'p', kind: 'pivot', failOn: 'always', noCompensation: true },
    { name: 'r', kind: 'retriable' },
  ];
  const out = await engine().execute(planSaga('pivotfail', plans, trace), { n: 1 });
  assert.equal(out.status, 'compensated');
  assert.deepEqual(trace.events, ['run:a:1', 'run:p:1', 'comp:a:succeeded']);
});

test('starting an existing saga id returns its outcome and never runs it twice', async () => {
  const trace = traceOf();
  const log = new MemorySagaLog();
  const e = engine(log);
  const saga = planSaga('idem', [{ name: 'a' }, { name: 'b' }], trace);
  const [one, two] = await Promise.all([e.execute(saga, { n: 1 }, { sagaId: 's1' }), e.execute(saga, { n: 1 }, { sagaId: 's1' })]);
  const three = await e.execute(saga, { n: 1 }, { sagaId: 's1' });
  // A second engine (another process) on the same log sees the same outcome.
  const four = await engine(log).execute(saga, { n: 1 }, { sagaId: 's1' });
  assert.deepEqual(trace.events, ['run:a:1', 'run:b:1']);
  assert.deepEqual(
    [one, two, three, four].map((o) => o.status),
    ['completed', 'completed', 'completed', 'completed'],
  );
  assert.equal([one, two, three, four].filter((o) => o.executed).length, 1);
  assert.deepEqual(four.results, one.results);
  const other = defineSaga('other', 1)
    .step({ name: 'x', run: async () => 1 })
    .build();
  await assert.rejects(e.execute(other, {}, { sagaId: 's1' }), (err: SagaError) => err.code === 'SAGA_CONFLICT');
});

test('the write-ahead record is durable before a step runs, its outcome after', async () => {
  const log = new MemorySagaLog();
  let seenAtRun: string[] = [];
  const saga = defineSaga('wal', 1)
    .step({
      name: 'a',
      run: async (ctx) => {
        seenAtRun = ((await log.load(ctx.sagaId))?.records ?? []).map((r) => r.type);
        return 'x';
      },
      compensate: async () => {},
    })
    .build();
  const out = await engine(log).execute(saga, {});
  assert.deepEqual(seenAtRun, ['step_started']);
  const types = (await log.load(out.sagaId))?.records.map((r) => r.type);
  assert.deepEqual(types, ['step_started', 'step_succeeded', 'status']);
});

test('hooks see saga, step, retry and compensation events; a throwing hook changes nothing', async () => {
  const seen: string[] = [];
  const hooks: SagaHooks = {
    onSagaStart: () => seen.push('saga:start'),
    onSagaEnd: (e) => seen.push(`saga:end:${e.status}`),
    onStepStart: (e) => seen.push(`step:start:${e.step}`),
    onStepEnd: (e) => seen.push(`step:end:${e.step}:${e.ok}`),
    onRetry: (e) => seen.push(`retry:${e.step}:${e.phase}`),
    onCompensationStart: (e) => seen.push(`comp:start:${e.step}`),
    onCompensationEnd: (e) => seen.push(`comp:end:${e.step}:${e.ok}`),
  };
  const thrower: SagaHooks = {
    onStepStart: () => {
      throw new Error('hook bug');
    },
  };
  const trace = traceOf();
  const saga = planSaga(
    'hooks',
    [
      { name: 'a', failOn: [1], retryable: true, maxAttempts: 2 },
      { name: 'b', failOn: 'always' },
    ],
    trace,
  );
  const out = await new SagaEngine({ log: new MemorySagaLog(), hooks: [hooks, thrower] }).execute(saga, { n: 1 });
  assert.equal(out.status, 'compensated');
  assert.deepEqual(seen, [
    'saga:start',
    'step:start:a',
    'step:end:a:false',
    'retry:a:forward',
    'step:start:a',
    'step:end:a:true',
    'step:start:b',
    'step:end:b:false',
    'comp:start:b',
    'comp:end:b:true',
    'comp:start:a',
    'comp:end:a:true',
    'saga:end:compensated',
  ]);
});

test('definitions are validated when built', () => {
  const noop = async (): Promise<void> => {};
  const bad = (f: () => unknown, pattern: RegExp): void =>
    assert.throws(f, (err: SagaError) => err.code === 'SAGA_DEFINITION_INVALID' && pattern.test(err.message));
  bad(() => defineSaga('empty', 1).build(), /at least one step/);
  bad(() => defineSaga('bad name!', 1).step({ name: 'a', run: noop }).build(), /name/);
  bad(() => defineSaga('dup', 1).step({ name: 'a', run: noop }).step({ name: 'a', run: noop }).build(), /used twice/);
  bad(() => defineSaga('retr', 1).step({ name: 'a', kind: 'retriable', run: noop }).build(), /after the pivot/);
  bad(
    () => defineSaga('comp', 1).step({ name: 'p', kind: 'pivot', run: noop }).step({ name: 'a', run: noop, compensate: noop }).build(),
    /must be retriable/,
  );
  bad(
    () => defineSaga('two', 1).step({ name: 'p', kind: 'pivot', run: noop }).step({ name: 'q', kind: 'pivot', run: noop }).build(),
    /only one pivot/,
  );
  bad(
    () =>
      defineSaga('grp', 1)
        .parallel((g) => g.step({ name: 'p', kind: 'pivot', run: noop }))
        .build(),
    /parallel group/,
  );
  bad(() => defineSaga('to', 1).step({ name: 'a', run: noop, timeoutMs: 0 }).build(), /timeouts/);
  bad(() => defineSaga('v', 0).step({ name: 'a', run: noop }).build(), /version/);
});

test('a non-JSON step output fails the step with a clear code', async () => {
  const saga = defineSaga('nonjson', 1)
    .step({ name: 'a', run: async () => Number.NaN, compensate: async () => {} })
    .build();
  const out = await engine().execute(saga, {});
  assert.equal(out.status, 'compensated');
  assert.equal(out.reason?.code, 'SAGA_INPUT_INVALID');
});

test('TestError is retryable only when marked so', () => {
  assert.equal(new TestError('x', true).retryable, true);
});
