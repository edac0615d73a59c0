// Typed steps outside the builder (issue 20): defineStep<I, O>() fixes a step's output type, and
// ctx.result(step) reads it typed, in run and in compensate, also after a recovery (the JSON form
// from the log). The @ts-expect-error lines are checked by `npm run typecheck`: if ctx.result were
// untyped they would not be errors, and the type check fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { defineSaga, defineStep, SagaEngine } from '../../src/saga/index.js';

interface Order {
  id: string;
  fail?: boolean;
}

const seen: string[] = [];
const reserve = defineStep<Order, { reservation: string; units: number }>({
  name: 'reserve',
  run: async (ctx) => ({ reservation: `r-${ctx.input.id}`, units: 2 }),
  compensate: async (ctx) => void seen.push(`release ${ctx.output?.reservation ?? '?'}`),
});
const charge = defineStep<Order, { charged: number }>({
  name: 'charge',
  run: async (ctx) => {
    const r = ctx.result(reserve);
    // @ts-expect-error -- reservation is a string, not a number: ctx.result is typed by the step
    const wrong: number | undefined = r?.reservation;
    void wrong;
    if (ctx.input.fail) throw Object.assign(new Error('card declined'), { code: 'CARD_DECLINED' });
    return { charged: (r?.units ?? 0) * 10 };
  },
  compensate: async (ctx) => void seen.push(`refund for ${ctx.result(reserve)?.reservation ?? '?'}`),
});
const receipt = defineStep<Order, string>({
  name: 'receipt',
  kind: 'pivot',
  run: async (ctx) => `${ctx.result(reserve)?.reservation} charged ${ctx.result(charge)?.charged}`,
});
const order = defineSaga<Order>('order').step(reserve).step(charge).step(receipt).build();

test('defineStep: typed outputs through ctx.result, forward and in compensations', async () => {
  const engine = new SagaEngine({ log: new MemorySagaLog(), heartbeatMs: 0 });
  const ok = await engine.execute(order, { id: 'o1' });
  assert.equal(ok.status, 'completed');
  assert.equal(ok.results.receipt, 'r-o1 charged 20');
  seen.length = 0;
  const failed = await engine.execute(order, { id: 'o2', fail: true });
  assert.equal(failed.status, 'compensated');
  assert.equal(failed.reason?.code, 'CARD_DECLINED');
  // A failed step may have applied ("maybe applied"): both compensate, in reverse order, and the
  // charge's compensation reads reserve's typed output.
  assert.deepEqual(seen, ['refund for r-o2', 'release r-o2']);
  // By name inside a builder chain, typed by the chain's results.
  const chained = defineSaga<Order>('chained')
    .step({ name: 'a', run: async () => ({ n: 1 }) })
    .step({ name: 'b', kind: 'pivot', run: async (ctx) => (ctx.result('a')?.n ?? 0) + 1 })
    .build();
  assert.equal((await engine.execute(chained, { id: 'c' })).results.b, 2);
  await engine.close();
});

test('ctx.result after a recovery reads the stored (JSON) output', async () => {
  const log = new MemorySagaLog();
  // A process crashed after reserve succeeded and before charge ran.
  await log.begin({
    sagaId: 'o3',
    name: 'order',
    version: 1,
    input: { id: 'o3' },
    status: 'running',
    owner: 'gone',
    leaseMs: 1,
    records: [
      { type: 'step_started', step: 'reserve', attempt: 1 },
      { type: 'step_succeeded', step: 'reserve', output: { reservation: 'r-stored', units: 3 } },
    ],
  });
  await new Promise((r) => setTimeout(r, 5)); // the 1 ms lease runs out
  const engine = new SagaEngine({ log, heartbeatMs: 0 }).register(order);
  const out = await engine.settle('o3');
  assert.equal(out.status, 'completed');
  assert.equal(out.results.receipt, 'r-stored charged 30');
  await engine.close();
});
