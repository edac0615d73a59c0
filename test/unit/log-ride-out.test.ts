// The saga log's outage ridden out (src/log/ride-out-log.ts, issue 22), on the memory log with
// injected failures: a log that is down for a while, and a log whose answers are lost after it
// applied (the database died between commit and reply). The saga must complete exactly once, its
// records written once each; a log down past the budget still fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { rideOutLog } from '../../src/log/ride-out-log.js';
import { SagaEngine, defineSaga, type SagaDefinition, type SagaLog } from '../../src/saga/index.js';
import { SagaError } from '../../src/saga/index.js';

const down = (): SagaError => new SagaError('LOG_FAILURE', 'saga log: connection terminated', { retryable: true });

/** Fails calls of `method` per `plan`: 'down' (nothing applied) or 'lost' (applied, answer lost). */
function flaky(log: MemorySagaLog, method: 'append' | 'begin', plan: Array<'down' | 'lost' | 'ok'>): SagaLog {
  const steps = [...plan];
  return new Proxy(log, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop);
      if (prop !== method || typeof value !== 'function')
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      return async (...args: unknown[]) => {
        const next = steps.shift() ?? 'ok';
        if (next === 'down') throw down();
        const out: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (next === 'lost') throw down();
        return out;
      };
    },
  });
}

function saga(): SagaDefinition<{ n: number }, Record<string, unknown>> {
  return defineSaga<{ n: number }>('two_steps', 1)
    .step({ name: 'a', run: () => Promise.resolve('a'), compensate: () => Promise.resolve() })
    .step({ name: 'b', kind: 'pivot', run: () => Promise.resolve('b') })
    .build() as unknown as SagaDefinition<{ n: number }, Record<string, unknown>>;
}

async function runOn(log: SagaLog): Promise<string> {
  const engine = new SagaEngine({ log, leaseMs: 60_000 });
  try {
    const out = await engine.execute(saga(), { n: 1 });
    assert.equal(out.status, 'completed');
    return out.sagaId;
  } finally {
    await engine.close();
  }
}

const fast = { budgetMs: 5_000, sleep: () => Promise.resolve() };

test('appends whose answers are lost after they applied count as done; the saga completes once', async () => {
  const mem = new MemorySagaLog();
  const id = await runOn(rideOutLog(flaky(mem, 'append', ['lost', 'ok', 'lost']), fast));
  const stored = await mem.load(id);
  assert.equal(stored?.status, 'completed');
  const kinds = stored?.records.map((r) => `${r.type}${'step' in r ? `:${r.step}` : ''}`) ?? [];
  assert.equal(new Set(kinds).size, kinds.length, `no record written twice: ${kinds.join(' ')}`);
  // Without the wrapper the same lost answer fails the saga's run.
  await assert.rejects(runOn(flaky(new MemorySagaLog(), 'append', ['lost'])), /LOG_FAILURE|connection terminated/);
});

test("a begin whose answer was lost is this call's saga: it runs, once", async () => {
  const mem = new MemorySagaLog();
  const id = await runOn(rideOutLog(flaky(mem, 'begin', ['lost']), fast));
  assert.equal((await mem.load(id))?.status, 'completed');
  assert.equal((await mem.list()).sagas.length, 1);
});

test('a log down for a while is waited out; down past the budget it still fails', async () => {
  const mem = new MemorySagaLog();
  await runOn(rideOutLog(flaky(mem, 'append', ['down', 'down', 'down', 'ok', 'down']), fast));
  const never = rideOutLog(flaky(new MemorySagaLog(), 'begin', Array<'down'>(1_000).fill('down')), { budgetMs: 30 });
  await assert.rejects(runOn(never), /connection terminated/);
});
