// The worker loop on its own, on the in-memory saga log (fast, no servers): it never runs more
// than `concurrency` sagas, keeps going through log failures with warnings that carry no secret,
// and a graceful stop releases unfinished sagas so another worker claims them at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, defineSaga } from '../../src/saga/index.js';
import { WorkerLoop } from '../../src/fleet/worker-loop.js';
import { sleep } from '../fleet/harness.js';
import { allSagas } from '../support/log-pages.js';
import { rideOutLog } from '../../src/log/ride-out-log.js';
import { LogWaits } from '../../src/log/log-waits.js';

function slowSaga(stepMs: number, gauge: { now: number; max: number }) {
  return defineSaga<{ k: number }>('slow', 1)
    .step({
      name: 'work',
      run: async (ctx) => {
        gauge.now++;
        gauge.max = Math.max(gauge.max, gauge.now);
        try {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, stepMs);
            ctx.signal.addEventListener('abort', () => {
              clearTimeout(t);
              reject(ctx.signal.reason as Error);
            });
          });
        } finally {
          gauge.now--;
        }
        return ctx.input.k;
      },
      compensate: async () => undefined,
    })
    .build();
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

test('worker loop: claims pending sagas, never more than `concurrency` at once, counts outcomes', async () => {
  const log = new MemorySagaLog();
  const gauge = { now: 0, max: 0 };
  const saga = slowSaga(15, gauge);
  const engine = new SagaEngine({ log, leaseMs: 5_000 }).register(saga);
  for (let k = 0; k < 40; k++) await engine.submit(saga, { k });
  const loop = new WorkerLoop({ engine, concurrency: 5, pollMs: 10, warn: () => undefined });
  const done = loop.start();
  await until(() => loop.counts().completed === 40, 10_000);
  await loop.stop({ graceMs: 100 });
  await done;
  const c = loop.counts();
  assert.equal(c.claimed, 40);
  assert.equal(c.completed, 40);
  assert.equal(gauge.max, 5, 'ran 5 at once, never more');
  assert.ok((await allSagas(log)).every((s) => s.status === 'completed'));
});

test('worker loop: a failing log yields one-line warnings without credentials, and the loop recovers', async () => {
  const log = new MemorySagaLog();
  const saga = slowSaga(1, { now: 0, max: 0 });
  const engine = new SagaEngine({ log, leaseMs: 5_000 }).register(saga);
  for (let k = 0; k < 10; k++) await engine.submit(saga, { k });
  let failuresLeft = 3;
  const claim = log.claim.bind(log);
  log.claim = async (req) => {
    if (failuresLeft-- > 0)
      throw Object.assign(new Error('connect ECONNREFUSED\n postgresql://apex:s3cret@127.0.0.1:5432/x'), { code: 'LOG_FAILURE' });
    return claim(req);
  };
  const warnings: string[] = [];
  const loop = new WorkerLoop({ engine, concurrency: 4, pollMs: 5, maxBackoffMs: 20, warn: (l) => warnings.push(l) });
  const done = loop.start();
  await until(() => loop.counts().completed === 10, 10_000);
  await loop.stop();
  await done;
  assert.equal(warnings.filter((w) => w.includes('cannot claim')).length, 3);
  assert.ok(warnings.some((w) => w.includes('reachable again')));
  for (const w of warnings) {
    assert.ok(!w.includes('s3cret') && !w.includes('\n'), `one line, no secret: ${w}`);
  }
  assert.match(warnings[0] ?? '', /LOG_FAILURE: connect ECONNREFUSED postgresql:\/\/\*\*\*@127\.0\.0\.1:5432\/x/);
});

test('worker loop: all slots held by sagas riding out a log outage: it still warns, and says when the log is back', async () => {
  // The claim never runs while every slot is busy, so only the running sagas' waits can tell.
  const memory = new MemorySagaLog();
  let down = false;
  const append = memory.append.bind(memory);
  memory.append = async (req) => {
    if (down)
      throw Object.assign(new Error('read ECONNRESET postgresql://apex:s3cret@127.0.0.1/x'), { code: 'LOG_FAILURE', retryable: true });
    return append(req);
  };
  const waits = new LogWaits();
  const log = rideOutLog(memory, { budgetMs: 30_000, onWait: waits.onWait });
  const saga = slowSaga(60, { now: 0, max: 0 });
  const engine = new SagaEngine({ log, leaseMs: 10_000 }).register(saga);
  for (let k = 0; k < 2; k++) await engine.submit(saga, { k });
  const warnings: string[] = [];
  const loop = new WorkerLoop({ engine, concurrency: 2, pollMs: 5, warn: (l) => warnings.push(l), logWaits: waits });
  const done = loop.start();
  await until(() => engine.activeCount === 2, 5_000);
  down = true; // both sagas' next append (their step's outcome) meets the outage
  await until(() => waits.waiting === 2, 5_000);
  assert.equal(warnings.length, 1, warnings.join(' | '));
  assert.match(
    warnings[0] ?? '',
    /^worker: saga log unreachable \(LOG_FAILURE: read ECONNRESET postgresql:\/\/\*\*\*@127\.0\.0\.1\/x\); 2 running saga\(s\) wait/,
  );
  down = false;
  await until(() => loop.counts().completed === 2, 10_000);
  await loop.stop();
  await done;
  assert.equal(waits.waiting, 0);
  assert.deepEqual(warnings.slice(1), ['worker: saga log reachable again (the running sagas wrote to it)']);
  assert.ok(warnings.every((w) => !w.includes('s3cret')));
});

test('worker loop: a graceful stop releases unfinished sagas so another worker claims them at once', async () => {
  const log = new MemorySagaLog();
  const gauge = { now: 0, max: 0 };
  const saga = slowSaga(60_000, gauge);
  const first = new SagaEngine({ log, owner: 'first', leaseMs: 60_000 }).register(saga);
  for (let k = 0; k < 6; k++) await first.submit(saga, { k });
  const loop = new WorkerLoop({ engine: first, concurrency: 4, pollMs: 10, warn: () => undefined });
  const done = loop.start();
  await until(() => gauge.now === 4, 5_000);
  await loop.stop({ graceMs: 20 });
  await done;
  assert.equal(first.activeCount, 0);
  // Lease of 60 s: only a release lets the second worker take them now.
  const second = new SagaEngine({ log, owner: 'second', leaseMs: 60_000 }).register(saga);
  const claimed = await second.recover({ limit: 10, includePending: true });
  assert.equal(claimed, 6, 'the 4 released sagas and the 2 never claimed');
  await second.close();
});
