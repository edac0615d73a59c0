// The saga list query: newest first, cursor pages that visit every match exactly once (also with
// record filters and ties on createdAt), answered by the log's own query: a rare match far down
// the log is on the first page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import type { LogRecord } from '../../src/saga/index.js';
import { querySagas, totalOf, type SagaQuery } from '../../src/http/saga-query.js';
import { HttpProblem } from '../../src/http/problem.js';
import { allSagas } from '../support/log-pages.js';

async function seed(n: number): Promise<{ log: MemorySagaLog; retrying: Set<string> }> {
  const log = new MemorySagaLog();
  const retrying = new Set<string>();
  for (let i = 0; i < n; i++) {
    const id = `s-${String(i).padStart(5, '0')}`;
    const attempt = i % 7 === 3 ? 2 : 1;
    if (attempt > 1) retrying.add(id);
    const records: LogRecord[] = [{ type: 'step_started', step: 'a', attempt }];
    await log.begin({
      sagaId: id,
      name: i % 2 ? 'odd' : 'even',
      version: 1,
      input: { docId: `d${i}` },
      key: `d${i}`,
      status: 'running',
      owner: 'o',
      leaseMs: 1000,
      records,
    });
  }
  return { log, retrying };
}

async function pages(log: MemorySagaLog, q: Omit<SagaQuery, 'cursor'>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = await querySagas(log, { ...q, ...(cursor ? { cursor } : {}) });
    seen.push(...page.sagas.map((s) => s.sagaId));
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

test('plain pages: every saga once, newest first', async () => {
  const { log } = await seed(23);
  const all = await allSagas(log);
  assert.deepEqual(await pages(log, { limit: 4 }), all.map((s) => s.sagaId).reverse());
  assert.deepEqual(
    await pages(log, { limit: 4, order: 'asc' }),
    all.map((s) => s.sagaId),
  );
});

test('record filter (retrying) with small pages: exactly the matches, once each', async () => {
  const { log, retrying } = await seed(50);
  const got = await pages(log, { limit: 2, retrying: true });
  assert.equal(got.length, retrying.size);
  assert.deepEqual(new Set(got), retrying);
  const notRetrying = await pages(log, { limit: 5, retrying: false, name: 'odd' });
  assert.equal(notRetrying.length, 25 - [...retrying].filter((id) => Number(id.slice(2)) % 2 === 1).length);
});

test('a rare match far down the log is on the first page', async () => {
  const log = new MemorySagaLog();
  await log.begin({
    sagaId: 'needle',
    name: 'x',
    version: 1,
    input: null,
    key: 'doc-n',
    status: 'running',
    owner: 'o',
    leaseMs: 1000,
    records: [{ type: 'step_started', step: 'a', attempt: 3 }],
  });
  for (let i = 0; i < 2_500; i++) {
    await log.begin({
      sagaId: `hay-${i}`,
      name: 'x',
      version: 1,
      input: null,
      status: 'running',
      owner: 'o',
      leaseMs: 1000,
      records: [{ type: 'step_started', step: 'a', attempt: 1 }],
    });
  }
  const first = await querySagas(log, { limit: 10, retrying: true });
  assert.deepEqual(
    first.sagas.map((s) => s.sagaId),
    ['needle'],
  );
  assert.equal(first.nextCursor, null);
  assert.deepEqual(
    (await querySagas(log, { limit: 10, docId: 'doc-n' })).sagas.map((s) => s.docId),
    ['doc-n'],
  );
  assert.deepEqual(await totalOf(log, { retrying: false }), { total: 2_500, totalCapped: false });
  assert.deepEqual(await totalOf(log, {}), { total: 2_501, totalCapped: false });
});

test('several statuses, stuck=false, and contradictions as 400', async () => {
  const { log } = await seed(6);
  const all = await allSagas(log);
  const done = all[0];
  assert.ok(done);
  const lease = { owner: 'o', fencingToken: 1 };
  await log.append({ sagaId: done.sagaId, lease, firstSeq: 1, records: [{ type: 'status', status: 'completed' }] });
  assert.equal((await querySagas(log, { limit: 50, status: ['completed', 'stuck'] })).sagas.length, 1);
  assert.equal((await querySagas(log, { limit: 50, stuck: false })).sagas.length, 6);
  await assert.rejects(
    querySagas(log, { limit: 50, stuck: true, status: ['running'] }),
    (e: unknown) => e instanceof HttpProblem && e.status === 400,
  );
  await assert.rejects(querySagas(log, { limit: 50, cursor: 'garbage' }), (e: unknown) => e instanceof HttpProblem && e.status === 400);
  const view = (await querySagas(log, { limit: 50, status: 'completed' })).sagas[0];
  assert.equal(view?.leaseExpiresAt, null, 'an ended saga shows no lease');
  assert.equal(typeof view?.runningMs, 'number');
});
