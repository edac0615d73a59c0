// Property test: random saga shapes, random step failures (before or after the effect applied,
// transient or permanent) and random compensation failures. Whatever happens, the saga ends in a
// state the semantics allow, and the effects left behind match that state exactly.
// Replay a failure with FC_SEED=<seed> (and FC_PATH=<path> from the report).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { planSaga, traceOf, type StepPlan } from '../support/saga-fixtures.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const path = process.env.FC_PATH;
console.log(`saga property test: FC_SEED=${seed}`);

const attempts = fc.uniqueArray(fc.integer({ min: 1, max: 3 }), { maxLength: 3 });

const stepArb = fc.record({
  failOn: fc.oneof(fc.constant<number[] | 'always'>('always'), attempts, fc.constant<number[]>([])),
  failAfterApply: fc.boolean(),
  retryable: fc.boolean(),
  maxAttempts: fc.integer({ min: 1, max: 3 }),
  compensationFailOn: fc.oneof(fc.constant<number[] | 'always'>('always'), attempts, fc.constant<number[]>([])),
  compensationMaxAttempts: fc.integer({ min: 1, max: 3 }),
  groupSize: fc.integer({ min: 1, max: 3 }),
});

const shapeArb = fc.record({
  before: fc.array(stepArb, { minLength: 1, maxLength: 4 }),
  pivot: fc.option(stepArb, { nil: undefined }),
  after: fc.array(stepArb, { maxLength: 2 }),
});

type Shape = typeof shapeArb extends fc.Arbitrary<infer T> ? T : never;

function toPlans(shape: Shape): StepPlan[] {
  const plans: StepPlan[] = [];
  let n = 0;
  shape.before.forEach((s, stage) => {
    for (let m = 0; m < s.groupSize; m++) {
      plans.push({ ...s, name: `s${n++}`, group: s.groupSize > 1 ? `g${stage}` : undefined });
    }
  });
  if (shape.pivot) {
    // A pivot is atomic (it applied if and only if it succeeded) and has nothing to compensate.
    plans.push({ ...shape.pivot, name: 'pivot', kind: 'pivot', noCompensation: true, failAfterApply: false, group: undefined });
    shape.after.forEach((s) => plans.push({ ...s, name: `r${n++}`, kind: 'retriable', group: undefined }));
  }
  return plans;
}

test('random sagas end in an allowed state with exactly the matching effects', async () => {
  await fc.assert(
    fc.asyncProperty(shapeArb, async (shape) => {
      const plans = toPlans(shape);
      const trace = traceOf();
      const log = new MemorySagaLog();
      const engine = new SagaEngine({ log, leaseMs: 60_000 });
      const saga = planSaga('prop', plans, trace);
      const out = await engine.execute(saga, { n: 1 });
      const stored = await log.load(out.sagaId);
      assert.equal(stored?.status, out.status, 'the log agrees with the outcome');

      const runs = trace.events.filter((e) => e.startsWith('run:')).map((e) => e.split(':')[1] as string);
      // "Started" is what the log says (step_started durable): a step may be started and then
      // cancelled before its body runs (a sibling failed), and is still compensated.
      const startedOrder = [...new Set((stored?.records ?? []).flatMap((r) => (r.type === 'step_started' ? [r.step] : [])))];
      for (const r of runs) assert.ok(startedOrder.includes(r), `${r} ran without a durable step_started`);
      const compEvents = trace.events.filter((e) => e.startsWith('comp:')).map((e) => e.split(':')[1] as string);
      const compensatable = new Set(plans.filter((p) => !p.noCompensation && p.kind !== 'retriable').map((p) => p.name));
      const pivotRan = runs.includes('pivot');
      const pivotApplied = trace.applied.has('pivot');

      // Compensations only ever go backwards through the started steps.
      const expectedOrder = [...startedOrder].reverse().filter((s) => compensatable.has(s));
      assert.deepEqual([...new Set(compEvents)], expectedOrder.slice(0, new Set(compEvents).size), 'reverse start order');

      if (out.status === 'completed') {
        assert.deepEqual(new Set(trace.applied), new Set(plans.map((p) => p.name)), 'every effect applied');
        assert.equal(compEvents.length, 0, 'nothing compensated');
      } else if (out.status === 'compensated') {
        assert.equal(trace.applied.size, 0, `no effect left: ${[...trace.applied].join(',')}`);
        assert.ok(!pivotApplied, 'a compensated saga never passed its pivot');
      } else {
        // Stuck: either a compensation ran out of attempts, or a step after the pivot did.
        const reason = out.reason?.message ?? '';
        if (/compensation of/.test(reason)) {
          const failed = /compensation of "([^"]+)"/.exec(reason)?.[1] ?? '';
          assert.ok(trace.applied.has(failed) || compEvents.includes(failed), 'the stuck step is named');
          assert.ok(!pivotApplied);
        } else {
          assert.ok(pivotRan && pivotApplied, 'forward-stuck only after the pivot');
          assert.equal(compEvents.length, 0);
        }
        // An operator retry, with the faults gone, finishes the saga for good.
        for (const p of plans) {
          p.failOn = [];
          p.compensationFailOn = [];
        }
        const retried = await new SagaEngine({ log, leaseMs: 60_000 }).register(planSaga('prop', plans, trace)).retryStuck(out.sagaId);
        assert.ok(retried.status === 'completed' || retried.status === 'compensated');
        if (retried.status === 'compensated') assert.equal(trace.applied.size, 0);
        else assert.ok(trace.applied.has('pivot'));
      }
    }),
    { seed, path, numRuns: Number(process.env.FC_RUNS ?? 300), endOnFailure: true },
  );
});

// Random shapes and failures, plus a crash: the owner "dies" at a random forward run (before or
// after its effect applied); a second engine recovers the saga once the lease lapsed. Without a
// real failure the saga must complete; whatever happens, every compensated effect is compensated
// exactly once, in reverse order of starting, and nothing is left applied by a compensated saga.
test('random sagas with a crash at a random point resume and complete unless a step really failed', async () => {
  await fc.assert(
    fc.asyncProperty(shapeArb, fc.integer({ min: 1, max: 12 }), fc.boolean(), fc.boolean(), async (shape, at, afterApply, clean) => {
      const plans = toPlans(shape);
      if (clean) for (const p of plans) Object.assign(p, { failOn: [], compensationFailOn: [] });
      const trace = traceOf();
      trace.crash = { at, afterApply, reached: false };
      let now = 1_000_000;
      const log = new MemorySagaLog({ now: () => now });
      const clock = { now: () => now, sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5))), random: () => 0.5 };
      const first = new SagaEngine({ log, owner: 'first', leaseMs: 1_000, heartbeatMs: 0, clock });
      const saga = planSaga('propcrash', plans, trace);
      const running = first.execute(saga, { n: 1 }, { sagaId: 'pc' }).catch(() => undefined);
      for (let i = 0; i < 2_000 && !trace.crash.reached; i++) {
        const done = await Promise.race([running.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
        if (done) break;
      }
      if (trace.crash.reached) {
        now += 1_001;
        const second = new SagaEngine({ log, owner: 'second', leaseMs: 60_000, heartbeatMs: 0, clock }).register(saga);
        // (A sibling's failure may have aborted the "dead" step and let the first owner finish:
        // then there is nothing to recover.)
        await second.recover();
        await second.idle();
      }
      await first.close();
      const stored = await log.load('pc');
      const status = stored?.status;
      const comps = trace.compensatedOk ?? [];
      assert.equal(new Set(comps).size, comps.length, `no effect compensated twice: ${comps.join(',')}`);
      const startedOrder = [...new Set((stored?.records ?? []).flatMap((r) => (r.type === 'step_started' ? [r.step] : [])))];
      const compensatable = new Set(plans.filter((p) => !p.noCompensation && p.kind !== 'retriable').map((p) => p.name));
      assert.deepEqual(
        comps,
        [...startedOrder]
          .reverse()
          .filter((s) => compensatable.has(s))
          .slice(0, comps.length),
        'reverse start order',
      );
      if (clean) assert.equal(status, 'completed', 'no step really failed: the interrupted saga resumed and completed');
      if (status === 'completed') assert.deepEqual(new Set(trace.applied), new Set(plans.map((p) => p.name)));
      if (status === 'compensated') assert.equal(trace.applied.size, 0, `left applied: ${[...trace.applied].join(',')}`);
    }),
    { seed, path, numRuns: Number(process.env.FC_RUNS ?? 200), endOnFailure: true },
  );
});
