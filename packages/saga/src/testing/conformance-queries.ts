// Conformance cases for the operators' queries (SagaLogQueries): keyset pages in both orders,
// every filter answered by the log, capped counts, the times on every record, and bad queries
// refused with SAGA_QUERY_INVALID. Run on every backend by conformance.ts.
import assert from 'node:assert/strict';
import type { LogRecord, SagaLogBackend } from '../log.js';
import type { SuiteContext } from './conformance.js';
import { beginReq, rejectsWith, started, uniqueId, withLog } from './conformance.js';

const step = (s: string, attempt = 1): LogRecord => ({ type: 'step_started', step: s, attempt });

/** Lets the log's clock move on, so that sagas begun one after the other have distinct times. */
async function tick(ctx: SuiteContext, ms = 5): Promise<void> {
  if (ctx.opts.advance) ctx.opts.advance(ms);
  else await new Promise((resolve) => setTimeout(resolve, ms));
}

async function ids(log: SagaLogBackend, filter: Parameters<SagaLogBackend['list']>[0]): Promise<string[]> {
  return (await log.list(filter, { limit: 100 })).sagas.map((s) => s.sagaId);
}

export function sagaLogQueryConformance(ctx: SuiteContext): void {
  const { it } = ctx.opts.test;
  it('list pages newest first (or oldest first), keyset cursors give every saga once', async () => {
    await withLog(ctx, async (log) => {
      const made: string[] = [];
      for (let i = 0; i < 7; i++) {
        made.push((await started(log, { sagaId: `page-${i}-${uniqueId('s')}` })).id);
        await tick(ctx);
      }
      for (const order of ['desc', 'asc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await log.list({}, { limit: 3, order, ...(cursor !== undefined ? { cursor } : {}) });
          pages++;
          seen.push(...page.sagas.map((s) => s.sagaId));
          if (page.next === null) break;
          cursor = page.next;
        }
        assert.equal(pages, 3, `${order}: 3 + 3 + 1`);
        assert.deepEqual(seen, order === 'desc' ? [...made].reverse() : made, `${order}: no gap, no repeat`);
      }
      const exact = await log.list({}, { limit: 7 });
      assert.equal(exact.next, null, 'a page that holds the rest has no next');
      const first = await log.list({}, { limit: 3 });
      assert.ok(first.next !== null);
      await rejectsWith(log.list({}, { limit: 3, order: 'asc', cursor: first.next }), 'SAGA_QUERY_INVALID');
      await rejectsWith(log.list({}, { cursor: 'not-a-cursor' }), 'SAGA_QUERY_INVALID');
      await rejectsWith(
        log.list({}, { cursor: Buffer.from(JSON.stringify({ b: 'other', o: 'desc', k: [1] }), 'utf8').toString('base64url') }),
        'SAGA_QUERY_INVALID',
      );
      await rejectsWith(log.list({}, { limit: 0 }), 'SAGA_QUERY_INVALID');
      await rejectsWith(log.list({}, { limit: 10_001 }), 'SAGA_QUERY_INVALID');
      await rejectsWith(log.list({ status: 'nope' as 'stuck' }), 'SAGA_QUERY_INVALID');
      await rejectsWith(log.list({ key: 'x'.repeat(501) }), 'SAGA_QUERY_INVALID');
    });
  });

  it('filters by statuses, name@version, key, owner, reason code and creation time', async () => {
    await withLog(ctx, async (log) => {
      const a = await started(log, { name: 'alpha', key: 'doc-1', owner: 'w1' });
      await tick(ctx);
      const b = await started(log, { name: 'alpha', version: 2, key: 'doc-2', owner: 'w2' });
      await tick(ctx);
      const c = await started(log, { name: 'beta', key: 'doc-1', owner: 'w1' });
      await log.append({ sagaId: b.id, lease: b.lease, firstSeq: 0, records: [{ type: 'status', status: 'completed' }] });
      const cancelled = { code: 'SAGA_CANCELLED', message: 'by an operator' };
      await log.append({
        sagaId: c.id,
        lease: c.lease,
        firstSeq: 0,
        records: [
          { type: 'status', status: 'compensating', reason: cancelled },
          { type: 'status', status: 'compensated' },
        ],
      });
      const boundary = (await log.load(b.id))?.createdAt ?? 0;
      assert.deepEqual(await ids(log, { status: ['completed', 'compensated'] }), [c.id, b.id]);
      assert.deepEqual(await ids(log, { status: 'running' }), [a.id]);
      assert.deepEqual(await ids(log, { name: 'alpha' }), [b.id, a.id]);
      assert.deepEqual(await ids(log, { name: 'alpha', version: 2 }), [b.id]);
      assert.deepEqual(await ids(log, { key: 'doc-1' }), [c.id, a.id]);
      assert.deepEqual(await ids(log, { key: 'doc-1', status: 'running' }), [a.id]);
      assert.deepEqual(await ids(log, { owner: 'w2' }), [b.id]);
      assert.deepEqual(await ids(log, { reasonCode: 'SAGA_CANCELLED' }), [c.id]);
      assert.deepEqual(await ids(log, { reasonCode: 'OTHER' }), []);
      assert.deepEqual(await ids(log, { createdFrom: boundary }), [c.id, b.id]);
      assert.deepEqual(await ids(log, { createdBefore: boundary }), [a.id]);
      const entry = (await log.list({ key: 'doc-2' })).sagas[0];
      assert.equal(entry?.key, 'doc-2');
      assert.equal((await log.load(a.id))?.key, 'doc-1');
    });
  });

  it('retrying: running sagas whose last record is a failed attempt to retry, or a later attempt', async () => {
    await withLog(ctx, async (log) => {
      const failing = { code: 'STORE_UNAVAILABLE', message: 'down', retryable: true };
      const waiting = await started(log, { records: [step('s1')] });
      await log.append({
        sagaId: waiting.id,
        lease: waiting.lease,
        firstSeq: 1,
        records: [{ type: 'step_failed', step: 's1', attempt: 1, error: failing, willRetry: true }],
      });
      const again = await started(log, { records: [step('s1')] });
      await log.append({
        sagaId: again.id,
        lease: again.lease,
        firstSeq: 1,
        records: [{ type: 'step_failed', step: 's1', attempt: 1, error: failing, willRetry: true }, step('s1', 2)],
      });
      const gaveUp = await started(log, { records: [step('s1')] });
      await log.append({
        sagaId: gaveUp.id,
        lease: gaveUp.lease,
        firstSeq: 1,
        records: [{ type: 'step_failed', step: 's1', attempt: 1, error: failing, willRetry: false }],
      });
      const recovered = await started(log, { records: [step('s1')] });
      await log.append({
        sagaId: recovered.id,
        lease: recovered.lease,
        firstSeq: 1,
        records: [
          { type: 'step_failed', step: 's1', attempt: 1, error: failing, willRetry: true },
          step('s1', 2),
          { type: 'step_succeeded', step: 's1', output: null },
        ],
      });
      const plain = await started(log, { records: [step('s1')] });
      assert.deepEqual(new Set(await ids(log, { retrying: true })), new Set([waiting.id, again.id]));
      assert.deepEqual(new Set(await ids(log, { retrying: false })), new Set([gaveUp.id, recovered.id, plain.id]));
      assert.deepEqual(new Set(await ids(log, { failedStep: 's1' })), new Set([waiting.id, again.id, gaveUp.id, recovered.id]));
      assert.deepEqual(await ids(log, { failedStep: 's2' }), []);
      assert.equal(await log.count({ failedStep: 's1', retrying: true }), 2);
    });
  });

  it('countUpTo stops at the cap and says so; count is exact', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('cap');
      for (let i = 0; i < 5; i++) await started(log, { name });
      assert.deepEqual(await log.countUpTo({ name }, 3), { count: 3, capped: true });
      assert.deepEqual(await log.countUpTo({ name }, 5), { count: 5, capped: false });
      assert.deepEqual(await log.countUpTo({ name, status: 'stuck' }, 5), { count: 0, capped: false });
      assert.equal(await log.count({ name }), 5);
      await rejectsWith(log.countUpTo({ name }, 0), 'SAGA_QUERY_INVALID');
    });
  });

  it('stamps every record with the log clock; startedAt is the first record, endedAt the end', async () => {
    await withLog(ctx, async (log) => {
      const queued = beginReq({ status: 'pending', owner: null, key: 'doc-q' });
      await log.begin(queued);
      let saga = await log.load(queued.sagaId);
      assert.deepEqual([saga?.startedAt, saga?.endedAt, saga?.recordTimes], [null, null, []], 'queued: not started');
      await tick(ctx, 40);
      const [claimed] = await log.claim({ owner: 'w', leaseMs: 60_000, limit: 10, includePending: true, names: [queued.name] });
      assert.ok(claimed);
      await log.append({ sagaId: queued.sagaId, lease: claimed.lease, firstSeq: 0, records: [step('s1')] });
      await tick(ctx, 40);
      await log.append({
        sagaId: queued.sagaId,
        lease: claimed.lease,
        firstSeq: 1,
        records: [
          { type: 'step_succeeded', step: 's1', output: null },
          { type: 'status', status: 'completed' },
        ],
      });
      saga = await log.load(queued.sagaId);
      assert.ok(saga);
      const times = saga.recordTimes;
      assert.equal(times.length, 3);
      const [t0, t1, t2] = times as [number, number, number];
      assert.ok(t0 - saga.createdAt >= 40, `queued for at least 40 ms (${t0 - saga.createdAt})`);
      assert.ok(t1 - t0 >= 40, `the step took at least 40 ms (${t1 - t0})`);
      assert.equal(t2, t1, 'one append, one time');
      assert.equal(saga.startedAt, t0);
      assert.equal(saga.endedAt, t1);
      const [entry] = (await log.list({ key: 'doc-q' })).sagas;
      assert.deepEqual([entry?.startedAt, entry?.endedAt], [t0, t1]);
      const running = await started(log, { records: [step('s1')] });
      const r = await log.load(running.id);
      assert.equal(r?.startedAt, r?.createdAt, 'begun running: started at once');
      assert.equal(r?.endedAt, null);
    });
  });

  it('a key is checked at begin: too long is refused and nothing is written', async () => {
    await withLog(ctx, async (log) => {
      const req = beginReq({ key: 'k'.repeat(501) });
      await rejectsWith(log.begin(req), 'SAGA_INPUT_INVALID');
      assert.equal(await log.load(req.sagaId), undefined);
    });
  });
}
