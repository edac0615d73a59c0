// One behavioural suite every SagaLogBackend backend must pass (memory, SQLite, PostgreSQL): records,
// seq order, fencing, statuses and list. Leases and claims live in conformance-leases.ts.
// It registers its cases through the caller's `describe`/`it` (node:test's, or any runner with
// the same shape), so it never touches a test runner's globals itself.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SagaError } from '../errors.js';
import type { BeginRequest, Json, Lease, LogRecord, SagaLogBackend } from '../log.js';
import { sagaLogLeaseConformance } from './conformance-leases.js';
import { sagaLogEngineConformance } from './conformance-engine.js';
import { sagaLogQueryConformance } from './conformance-queries.js';

/** Where the suite registers its cases: `{ describe, it }` from node:test, or a runner with that shape. */
export interface TestRegistrar {
  describe: (name: string, body: () => void) => unknown;
  it: (name: string, body: () => Promise<void>) => unknown;
}

export interface SagaLogConformanceOptions {
  /** The test runner's `describe` and `it`. */
  test: TestRegistrar;
  /**
   * Moves the log's clock forward. Backends with an injectable clock (memory, SQLite) pass it so
   * lease tests run instantly; without it the suite waits in real time (PostgreSQL uses its own clock).
   */
  advance?: (ms: number) => void;
  /** A lease short enough to let expire in a test: virtual ms with `advance`, real ms without. */
  shortLeaseMs: number;
  /** Called once after each test with the log it used (drop a schema, delete a file). */
  cleanup?: (log: SagaLogBackend) => Promise<void>;
}

export interface SuiteContext {
  open: () => Promise<SagaLogBackend>;
  opts: SagaLogConformanceOptions;
}

export const LONG_LEASE_MS = 600_000;

/** Opens a log, runs `body`, always closes it (and runs the cleanup). */
export async function withLog(ctx: SuiteContext, body: (log: SagaLogBackend) => Promise<void>): Promise<void> {
  const log = await ctx.open();
  try {
    await body(log);
  } finally {
    await log.close();
    await ctx.opts.cleanup?.(log);
  }
}

/** Lets leases of `ms` expire: on the injected clock, or by sleeping a little past them. */
export async function elapse(ctx: SuiteContext, ms: number): Promise<void> {
  if (ctx.opts.advance) ctx.opts.advance(ms + 1);
  else await new Promise((resolve) => setTimeout(resolve, ms + 50));
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export function beginReq(overrides: Partial<BeginRequest> = {}): BeginRequest {
  return {
    sagaId: uniqueId('saga'),
    name: 'conformance',
    version: 1,
    input: { doc: 'd1' },
    status: 'running',
    owner: 'owner-a',
    leaseMs: LONG_LEASE_MS,
    ...overrides,
  };
}

/** Begins a running saga and returns its lease. */
export async function started(log: SagaLogBackend, overrides: Partial<BeginRequest> = {}): Promise<{ id: string; lease: Lease }> {
  const req = beginReq(overrides);
  const result = await log.begin(req);
  assert.equal(result.created, true, 'a new id must create a saga');
  if (!result.created) throw new Error('unreachable');
  return { id: req.sagaId, lease: result.lease };
}

export async function rejectsWith(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof SagaError, `expected a SagaError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  });
}

const started0: LogRecord = { type: 'step_started', step: 'postgres_pending', attempt: 1 };
const succeeded0: LogRecord = { type: 'step_succeeded', step: 'postgres_pending', output: { rows: 3 } };
const succeededWith = (i: number): LogRecord => ({ type: 'step_succeeded', step: 'postgres_pending', output: { i } });
const started1: LogRecord = { type: 'step_started', step: 'neo4j_write', attempt: 1 };

export function sagaLogConformance(name: string, open: () => Promise<SagaLogBackend>, opts: SagaLogConformanceOptions): void {
  const ctx: SuiteContext = { open, opts };
  const { describe, it } = opts.test;

  describe(`SagaLogBackend conformance: ${name}`, () => {
    it('begin creates a running saga owned by the caller, with token 1', async () => {
      await withLog(ctx, async (log) => {
        const req = beginReq({ input: { doc: 'x', n: 2 } });
        const result = await log.begin(req);
        assert.deepEqual(result, { created: true, lease: { owner: 'owner-a', fencingToken: 1 } });
        const saga = await log.load(req.sagaId);
        assert.ok(saga);
        assert.equal(saga.sagaId, req.sagaId);
        assert.equal(saga.name, 'conformance');
        assert.equal(saga.version, 1);
        assert.equal(saga.status, 'running');
        assert.equal(saga.owner, 'owner-a');
        assert.equal(saga.fencingToken, 1);
        assert.deepEqual(saga.input, { doc: 'x', n: 2 });
        assert.deepEqual(saga.records, []);
        assert.equal(saga.reason, null);
        assert.ok(saga.leaseExpiresAt !== null && saga.leaseExpiresAt > saga.createdAt);
      });
    });

    it('begin with an existing id returns the saga untouched', async () => {
      await withLog(ctx, async (log) => {
        const { id, lease } = await started(log);
        await log.append({ sagaId: id, lease, firstSeq: 0, records: [started0] });
        const again = await log.begin(beginReq({ sagaId: id, name: 'other', input: { doc: 'changed' }, owner: 'owner-b' }));
        assert.equal(again.created, false);
        if (again.created) return;
        assert.equal(again.existing.sagaId, id);
        assert.equal(again.existing.name, 'conformance');
        assert.equal(again.existing.owner, 'owner-a');
        assert.equal(again.existing.fencingToken, 1);
        const saga = await log.load(id);
        assert.deepEqual(saga?.input, { doc: 'd1' });
        assert.equal(saga?.records.length, 1);
      });
    });

    it('begin with records writes them at seq 0 only when it creates the saga', async () => {
      await withLog(ctx, async (log) => {
        const first: LogRecord[] = [
          { type: 'step_started', step: 'a', attempt: 1 },
          { type: 'step_started', step: 'b', attempt: 1 },
        ];
        const req = beginReq({ records: first });
        const result = await log.begin(req);
        assert.equal(result.created, true);
        if (!result.created) return;
        assert.deepEqual((await log.load(req.sagaId))?.records, first);
        // The next append continues at seq 2.
        await log.append({
          sagaId: req.sagaId,
          lease: result.lease,
          firstSeq: 2,
          records: [{ type: 'step_succeeded', step: 'a', output: 1 }],
        });
        // A second begin of the same id appends nothing, whatever records it carries.
        const again = await log.begin(beginReq({ sagaId: req.sagaId, records: [{ type: 'step_started', step: 'zzz', attempt: 1 }] }));
        assert.equal(again.created, false);
        assert.deepEqual(
          (await log.load(req.sagaId))?.records.map((r) => r.type),
          ['step_started', 'step_started', 'step_succeeded'],
        );
      });
    });

    it('begin pending queues a saga with no owner and token 0', async () => {
      await withLog(ctx, async (log) => {
        const req = beginReq({ status: 'pending', owner: null });
        const result = await log.begin(req);
        assert.equal(result.created, true);
        const [summary] = (await log.list({ status: 'pending' })).sagas;
        assert.equal(summary?.sagaId, req.sagaId);
        assert.equal(summary?.owner, null);
        assert.equal(summary?.fencingToken, 0);
      });
    });

    it('append and load round-trip records, seq order and JSON exactly', async () => {
      await withLog(ctx, async (log) => {
        const tricky: Json = {
          unicode: 'Grüße, 東京, emoji 🧪👩‍🔬, combining é, rtl שלום',
          escapes: 'quote " backslash \\ newline \n tab \t nul \u0000 bell \u0007',
          numbers: [0, -1, 3.14159, 1e-7, 2 ** 53 - 1, -(2 ** 31)],
          nested: { a: [true, false, null, { b: [] }], empty: '', obj: {} },
        };
        const input: Json = { title: 'Ünïcødé 文書', tags: ['a', 'b'] };
        const { id, lease } = await started(log, { input });
        const failed: LogRecord = {
          type: 'step_failed',
          step: 'neo4j_write',
          attempt: 1,
          willRetry: true,
          error: { code: 'NEO4J_UNAVAILABLE', message: 'connection refused ✗', retryable: true },
        };
        const batches: LogRecord[][] = [
          [started0],
          [{ type: 'step_succeeded', step: 'postgres_pending', output: tricky }, started1],
          [failed, { type: 'step_started', step: 'neo4j_write', attempt: 2 }, { type: 'compensation_started', step: 'x', attempt: 1 }],
        ];
        let seq = 0;
        for (const records of batches) {
          await log.append({ sagaId: id, lease, firstSeq: seq, records });
          seq += records.length;
        }
        const saga = await log.load(id);
        assert.deepEqual(saga?.records, batches.flat());
        assert.deepEqual(saga?.input, input);
        assert.equal(saga?.status, 'running');
      });
    });

    it('rejects an append whose firstSeq is not the next seq, writing nothing', async () => {
      await withLog(ctx, async (log) => {
        const { id, lease } = await started(log);
        await log.append({ sagaId: id, lease, firstSeq: 0, records: [started0] });
        await rejectsWith(log.append({ sagaId: id, lease, firstSeq: 2, records: [succeeded0] }), 'LOG_FAILURE');
        await rejectsWith(log.append({ sagaId: id, lease, firstSeq: 0, records: [succeeded0] }), 'LOG_FAILURE');
        assert.deepEqual((await log.load(id))?.records, [started0]);
        await log.append({ sagaId: id, lease, firstSeq: 1, records: [succeeded0] });
        assert.deepEqual((await log.load(id))?.records, [started0, succeeded0]);
      });
    });

    it('rejects an append with a stale or unknown token as SAGA_FENCED, writing nothing', async () => {
      await withLog(ctx, async (log) => {
        const { id, lease } = await started(log);
        await log.append({ sagaId: id, lease, firstSeq: 0, records: [started0] });
        const stale = { owner: lease.owner, fencingToken: lease.fencingToken + 1 };
        const status: LogRecord = { type: 'status', status: 'completed' };
        await rejectsWith(log.append({ sagaId: id, lease: stale, firstSeq: 1, records: [succeeded0, status], leaseMs: 5 }), 'SAGA_FENCED');
        const saga = await log.load(id);
        assert.deepEqual(saga?.records, [started0]);
        assert.equal(saga?.status, 'running');
      });
    });

    it('rejects an append to an unknown saga with SAGA_NOT_FOUND', async () => {
      await withLog(ctx, async (log) => {
        const lease = { owner: 'owner-a', fencingToken: 1 };
        await rejectsWith(log.append({ sagaId: uniqueId('missing'), lease, firstSeq: 0, records: [started0] }), 'SAGA_NOT_FOUND');
      });
    });

    it('rejects a record that is not JSON-serializable, writing nothing', async () => {
      await withLog(ctx, async (log) => {
        const { id, lease } = await started(log);
        const bad = { type: 'step_succeeded', step: 's', output: { n: 10n } } as unknown as LogRecord;
        await rejectsWith(log.append({ sagaId: id, lease, firstSeq: 0, records: [started0, bad] }), 'SAGA_INPUT_INVALID');
        assert.deepEqual((await log.load(id))?.records, []);
      });
    });

    it('status records set the status and reason in the same commit', async () => {
      await withLog(ctx, async (log) => {
        const { id, lease } = await started(log);
        const reason = { code: 'QDRANT_TIMEOUT', message: 'timed out', retryable: true };
        await log.append({ sagaId: id, lease, firstSeq: 0, records: [started0, { type: 'status', status: 'compensating', reason }] });
        let saga = await log.load(id);
        assert.equal(saga?.status, 'compensating');
        assert.deepEqual(saga?.reason, reason);
        await log.append({ sagaId: id, lease, firstSeq: 2, records: [{ type: 'status', status: 'compensated' }] });
        saga = await log.load(id);
        assert.equal(saga?.status, 'compensated');
        assert.deepEqual(saga?.reason, reason, 'a status record without a reason keeps the last reason');
        assert.ok((saga?.updatedAt ?? 0) >= (saga?.createdAt ?? Infinity));
      });
    });

    it('list filters by status and name, newest first, with a limit', async () => {
      await withLog(ctx, async (log) => {
        const ids: string[] = [];
        for (let i = 0; i < 4; i++) {
          const { id, lease } = await started(log, { sagaId: `list-${i}-${uniqueId('s')}`, name: i % 2 === 0 ? 'even' : 'odd' });
          ids.push(id);
          if (i === 3) await log.append({ sagaId: id, lease, firstSeq: 0, records: [{ type: 'status', status: 'completed' }] });
          if (opts.advance) opts.advance(10);
          else await new Promise((resolve) => setTimeout(resolve, 5)); // distinct creation times on the log's own clock
        }
        const sagaIds = async (...args: Parameters<SagaLogBackend['list']>): Promise<string[]> =>
          (await log.list(...args)).sagas.map((s) => s.sagaId);
        assert.deepEqual(await sagaIds({ name: 'even' }), [ids[2], ids[0]]);
        assert.deepEqual(await sagaIds({ status: 'completed' }), [ids[3]]);
        assert.deepEqual(await sagaIds({ name: 'odd', status: 'running' }), [ids[1]]);
        assert.deepEqual(await sagaIds({}, { limit: 2 }), [ids[3], ids[2]]);
        assert.equal((await log.list()).sagas.length, 4);
        assert.deepEqual(await log.list({ name: 'none' }), { sagas: [], next: null });
      });
    });

    it('commits many appends made in one event-loop turn, each settling on its own', async () => {
      await withLog(ctx, async (log) => {
        const sagas = await Promise.all(Array.from({ length: 120 }, (_, i) => started(log, { sagaId: `many-${i}-${uniqueId('s')}` })));
        const outcomes = await Promise.allSettled(
          sagas.map(({ id, lease }, i) => {
            // Saga 7 uses a stale token and saga 11 a wrong seq: they must fail alone.
            const bad = i === 7 ? { ...lease, fencingToken: 99 } : lease;
            return log.append({ sagaId: id, lease: bad, firstSeq: i === 11 ? 5 : 0, records: [started0, succeededWith(i)] });
          }),
        );
        outcomes.forEach((o, i) => assert.equal(o.status, i === 7 || i === 11 ? 'rejected' : 'fulfilled', `append ${i}`));
        const loaded = await Promise.all(sagas.map(({ id }) => log.load(id)));
        loaded.forEach((saga, i) => {
          const expected = i === 7 || i === 11 ? [] : [started0, succeededWith(i)];
          assert.deepEqual(saga?.records, expected, `saga ${i}`);
        });
      });
    });

    it('prune deletes ended sagas with their records, never unfinished or stuck ones, up to the limit', async () => {
      await withLog(ctx, async (log) => {
        const end = async (status: 'completed' | 'compensated' | 'stuck' | null): Promise<string> => {
          const { id, lease } = await started(log);
          const records: LogRecord[] = [started0];
          if (status) records.push({ type: 'status', status: status === 'completed' ? 'completed' : 'compensating' });
          if (status === 'compensated' || status === 'stuck') records.push({ type: 'status', status });
          await log.append({ sagaId: id, lease, firstSeq: 0, records });
          return id;
        };
        const done1 = await end('completed');
        const done2 = await end('compensated');
        const done3 = await end('completed');
        const running = await end(null);
        const stuck = await end('stuck');
        const future = Date.now() + 10 * 365 * 24 * 3600 * 1000;
        assert.equal(await log.prune(0, 100), 0, 'nothing ended before the epoch');
        assert.equal(await log.prune(future, 2), 2, 'the limit holds');
        assert.equal(await log.prune(future, 100), 1);
        for (const id of [done1, done2, done3]) assert.equal(await log.load(id), undefined);
        assert.equal((await log.load(running))?.records.length, 1, 'a running saga is kept with its records');
        assert.equal((await log.load(stuck))?.status, 'stuck', 'a stuck saga waits for its operator');
      });
    });

    it('close lets earlier calls finish and rejects later ones with LOG_CLOSED', async () => {
      const log = await ctx.open();
      try {
        const req = beginReq();
        const pending = log.begin(req);
        const closing = log.close();
        assert.equal((await pending).created, true);
        await closing;
        await rejectsWith(log.begin(beginReq()), 'LOG_CLOSED');
        await rejectsWith(
          log.append({ sagaId: req.sagaId, lease: { owner: 'owner-a', fencingToken: 1 }, firstSeq: 0, records: [] }),
          'LOG_CLOSED',
        );
        await rejectsWith(log.load(req.sagaId), 'LOG_CLOSED');
        await rejectsWith(log.list(), 'LOG_CLOSED');
        await rejectsWith(log.claim({ owner: 'x', leaseMs: 1, limit: 1, includePending: true }), 'LOG_CLOSED');
        await rejectsWith(log.renew('x', [], 1), 'LOG_CLOSED');
        await rejectsWith(log.release('x', []), 'LOG_CLOSED');
        await rejectsWith(log.claimStuck(req.sagaId, 'x', 1), 'LOG_CLOSED');
        await log.close();
      } finally {
        await ctx.opts.cleanup?.(log);
      }
    });

    sagaLogLeaseConformance(ctx);
    sagaLogEngineConformance(ctx);
    sagaLogQueryConformance(ctx);
  });
}
