// The saga list query: newest first, cursor pages that visit every match exactly once (also with
// record filters, ties on createdAt, and the per-request cap on records read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import type { LogRecord } from '../../src/saga/index.js';
import { querySagas, type SagaQuery } from '../../src/http/saga-query.js';

async function seed(n: number): Promise<{ log: MemorySagaLog; retrying: Set<string> }> {
  const log = new MemorySagaLog();
  const retrying = new Set<string>();
  for (let i = 0; i < n; i++) {
    const id = `s-${String(i).padStart(5, '0')}`;
    const attempt = i % 7 === 3 ? 2 : 1;
    if (attempt > 1) retrying.add(id);
    const records: LogRecord[] = [{ type: 'step_started', step: 'a', attempt }];
    await log.begin({ sagaId: id, name: i % 2 ? 'odd' : 'even', version: 1, input: { docId: `d${i}` }, status: 'running', owner: 'o', leaseMs: 1000, records });
  }
  return { log, retrying };
}

async function pages(log: MemorySagaLog, q: Omit<SagaQuery, 'cursor'>): Promise<string[]> {
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 10_000; i++) {
    const page = await querySagas(log, { ...q, ...(cursor ? { cursor } : {}) }, 100_000);
    seen.push(...page.sagas.map((s) => s.sagaId));
    if (!page.nextCursor) return seen;
    cursor = page.nextCursor;
  }
  throw new Error('pagination did not end');
}

test('plain pages: every saga once, newest first', async () => {
  const { log } = await seed(23);
  const all = await log.list({ limit: 1000 });
  const order = [...all].sort((a, b) => b.createdAt - a.createdAt || (a.sagaId < b.sagaId ? 1 : -1)).map((s) => s.sagaId);
  assert.deepEqual(await pages(log, { limit: 4 }), order);
});

test('record filter (retrying) with small pages: exactly the matches, once each', async () => {
  const { log, retrying } = await seed(50);
  const got = await pages(log, { limit: 2, retrying: true });
  assert.equal(got.length, retrying.size);
  assert.deepEqual(new Set(got), retrying);
  const notRetrying = await pages(log, { limit: 5, retrying: false, name: 'odd' });
  assert.equal(notRetrying.length, 25 - [...retrying].filter((id) => Number(id.slice(2)) % 2 === 1).length);
});

test('a rare match beyond the per-request read cap is still reached through the cursor', async () => {
  const log = new MemorySagaLog();
  await log.begin({ sagaId: 'needle', name: 'x', version: 1, input: null, status: 'running', owner: 'o', leaseMs: 1000, records: [{ type: 'step_started', step: 'a', attempt: 3 }] });
  for (let i = 0; i < 2_500; i++) {
    await log.begin({ sagaId: `hay-${i}`, name: 'x', version: 1, input: null, status: 'running', owner: 'o', leaseMs: 1000, records: [{ type: 'step_started', step: 'a', attempt: 1 }] });
  }
  const first = await querySagas(log, { limit: 10, retrying: true }, 100_000);
  assert.deepEqual(first.sagas, [], 'the cap stops the first request early');
  assert.ok(first.nextCursor);
  assert.deepEqual(await pages(log, { limit: 10, retrying: true }), ['needle']);
});
