// A parallel group's write-ahead records go to the log in one append (one commit), in declaration
// order, before any member runs; a group that starts the saga is not written twice (its records
// rode with `begin`); a member cancelled right after that append still ends with an outcome.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, defineSaga } from '../../src/saga/index.js';
import type { AppendRequest, BeginRequest, LogRecord } from '../../src/saga/log.js';

/** The record types of every write (begin, then each append), e.g. 'step_started:b'. */
function recordingLog(): { log: MemorySagaLog; writes: string[][] } {
  const log = new MemorySagaLog();
  const writes: string[][] = [];
  const show = (r: LogRecord): string => ('step' in r ? `${r.type}:${r.step}` : `${r.type}:${r.type === 'status' ? r.status : ''}`);
  const begin = log.begin.bind(log);
  const append = log.append.bind(log);
  log.begin = (req: BeginRequest) => {
    writes.push((req.records ?? []).map(show));
    return begin(req);
  };
  log.append = (req: AppendRequest) => {
    writes.push(req.records.map(show));
    return append(req);
  };
  return { log, writes };
}

const noop = { run: async (): Promise<null> => null, compensate: async (): Promise<void> => {} };

test('a parallel group after the first stage: its step_started records are one append, in declaration order', async () => {
  const { log, writes } = recordingLog();
  const running: string[] = [];
  const saga = defineSaga<{ n: number }>('group', 1)
    .step({ name: 'a', ...noop })
    .parallel((g) =>
      g
        .step({ name: 'b', run: async () => void running.push(`b saw ${writes.length} writes`), compensate: async () => {} })
        .step({ name: 'c', run: async () => void running.push(`c saw ${writes.length} writes`), compensate: async () => {} }),
    )
    .step({ name: 'd', ...noop })
    .build();
  const out = await new SagaEngine({ log, leaseMs: 5_000 }).execute(saga, { n: 1 });
  assert.equal(out.status, 'completed');
  assert.deepEqual(writes, [
    ['step_started:a'],
    ['step_succeeded:a', 'step_started:b', 'step_started:c'],
    ['step_succeeded:b', 'step_succeeded:c', 'step_started:d'],
    ['step_succeeded:d', 'status:completed'],
  ]);
  // Both members ran only after that append (write-ahead).
  assert.deepEqual(running.sort(), ['b saw 2 writes', 'c saw 2 writes']);
  const stored = await log.load(out.sagaId);
  assert.equal(stored?.records.filter((r) => r.type === 'step_started').length, 4);
});

test('a parallel group that starts the saga is written once (with begin), not again', async () => {
  const { log, writes } = recordingLog();
  const saga = defineSaga<{ n: number }>('first-group', 1)
    .parallel((g) => g.step({ name: 'b', ...noop }).step({ name: 'c', ...noop }))
    .step({ name: 'd', ...noop })
    .build();
  const out = await new SagaEngine({ log, leaseMs: 5_000 }).execute(saga, { n: 1 });
  assert.equal(out.status, 'completed');
  assert.deepEqual(writes, [
    ['step_started:b', 'step_started:c'],
    ['step_succeeded:b', 'step_succeeded:c', 'step_started:d'],
    ['step_succeeded:d', 'status:completed'],
  ]);
});

test('a member whose group is cancelled while the group start is written fails, and every started member is compensated', async () => {
  const { log, writes } = recordingLog();
  const engine = new SagaEngine({ log, leaseMs: 5_000 });
  const ran: string[] = [];
  const compensated: string[] = [];
  const member = (name: string) => ({
    name,
    run: async () => void ran.push(name),
    compensate: async () => void compensated.push(name),
  });
  const saga = defineSaga<{ n: number }>('cancel-group', 1)
    .step({ name: 'a', ...noop })
    .parallel((g) => g.step(member('b')).step(member('c')))
    .build();
  const append = log.append.bind(log);
  let sagaId = '';
  log.append = (req: AppendRequest) => {
    // Cancel the saga while the group's append is in flight (the second append of the saga).
    if (req.records.some((r) => r.type === 'step_started' && r.step === 'b')) void engine.cancel(sagaId).catch(() => undefined);
    return append(req);
  };
  const running = engine.execute(saga, { n: 1 }, { sagaId: 'cg-1' });
  sagaId = 'cg-1';
  const out = await running;
  assert.equal(out.status, 'compensated');
  assert.equal(out.reason?.code, 'SAGA_CANCELLED');
  assert.deepEqual(ran, [], 'no member ran after the cancel');
  assert.deepEqual(compensated.sort(), ['b', 'c'], 'both members were started in the log, so both are compensated');
  const types = (await log.load('cg-1'))?.records.map((r) => `${r.type}${'step' in r ? `:${r.step}` : ''}`) ?? [];
  for (const m of ['b', 'c']) assert.ok(types.includes(`step_failed:${m}`), `${m} has an outcome: ${types.join(', ')}`);
  assert.ok(writes.length > 0);
});
