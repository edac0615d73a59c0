// Conformance cases for the log methods the engine semantics of issue 9 need: count, claimSaga
// (one saga: expired, dead owner, forced), versioned claims, dead owners, durable-timer release,
// meta and deadline round trip, the commit listener, and waitForChange where a backend has it.
import assert from 'node:assert/strict';
import type { CommitEvent, LogRecord } from '../log.js';
import type { SuiteContext } from './conformance.js';
import { elapse, LONG_LEASE_MS, rejectsWith, started, uniqueId, withLog } from './conformance.js';

const step: LogRecord = { type: 'step_started', step: 's1', attempt: 1 };

export function sagaLogEngineConformance(ctx: SuiteContext): void {
  const { it } = ctx.opts.test;
  const short = ctx.opts.shortLeaseMs;

  it('count counts by status, name and version without listing', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('cnt');
      await started(log, { name });
      await started(log, { name, version: 2 });
      const done = await started(log, { name });
      await log.append({ sagaId: done.id, lease: done.lease, firstSeq: 0, records: [{ type: 'status', status: 'completed' }] });
      assert.equal(await log.count({ name }), 3);
      assert.equal(await log.count({ name, status: 'running' }), 2);
      assert.equal(await log.count({ name, version: 2 }), 1);
      assert.equal(await log.count({ name, status: 'completed', version: 1 }), 1);
      assert.ok((await log.count()) >= 3);
    });
  });

  it('claim takes only the registered (name, version) pairs and reports the previous owner', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('ver');
      const v1 = await started(log, { name, leaseMs: short });
      const v2 = await started(log, { name, version: 2, leaseMs: short });
      await elapse(ctx, short);
      const onlyV1 = await log.claim({
        owner: 'w1',
        leaseMs: LONG_LEASE_MS,
        limit: 10,
        includePending: false,
        definitions: [{ name, version: 1 }],
      });
      assert.deepEqual(
        onlyV1.map((c) => c.saga.sagaId),
        [v1.id],
      );
      assert.equal(onlyV1[0]?.previousOwner, 'owner-a');
      const both = await log.claim({
        owner: 'w2',
        leaseMs: LONG_LEASE_MS,
        limit: 10,
        includePending: false,
        definitions: [
          { name, version: 1 },
          { name, version: 2 },
        ],
      });
      assert.deepEqual(
        both.map((c) => c.saga.sagaId),
        [v2.id],
      );
    });
  });

  it('claim takes the sagas of a dead owner at once, under a live lease', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('dead');
      const a = await started(log, { name, owner: 'dead-owner' });
      await started(log, { name, owner: 'live-owner' });
      const owners = await log.owners();
      assert.equal(owners.find((o) => o.owner === 'dead-owner')?.sagas, 1);
      const none = await log.claim({ owner: 'w', leaseMs: LONG_LEASE_MS, limit: 10, includePending: false, names: [name] });
      assert.equal(none.length, 0, 'live leases are not claimed');
      const got = await log.claim({
        owner: 'w',
        leaseMs: LONG_LEASE_MS,
        limit: 10,
        includePending: false,
        names: [name],
        deadOwners: ['dead-owner'],
      });
      assert.deepEqual(
        got.map((c) => [c.saga.sagaId, c.previousOwner, c.lease.fencingToken]),
        [[a.id, 'dead-owner', 2]],
      );
      await rejectsWith(log.append({ sagaId: a.id, lease: a.lease, firstSeq: 0, records: [step] }), 'SAGA_FENCED');
    });
  });

  it('claimSaga takes one saga: expired, still held by a given (dead) owner, or forced; never a final one', async () => {
    await withLog(ctx, async (log) => {
      const s = await started(log);
      assert.equal(await log.claimSaga({ sagaId: s.id, owner: 'b', leaseMs: LONG_LEASE_MS }), undefined, 'live lease');
      assert.equal(
        await log.claimSaga({ sagaId: s.id, owner: 'b', leaseMs: LONG_LEASE_MS, ifHeldBy: { owner: 'owner-a', fencingToken: 7 } }),
        undefined,
        'held by another token',
      );
      const held = await log.claimSaga({
        sagaId: s.id,
        owner: 'b',
        leaseMs: LONG_LEASE_MS,
        ifHeldBy: { owner: 'owner-a', fencingToken: 1 },
      });
      assert.deepEqual([held?.lease, held?.previousOwner], [{ owner: 'b', fencingToken: 2 }, 'owner-a']);
      const forced = await log.claimSaga({ sagaId: s.id, owner: 'c', leaseMs: LONG_LEASE_MS, force: true });
      assert.deepEqual(forced?.lease, { owner: 'c', fencingToken: 3 });
      await log.append({
        sagaId: s.id,
        lease: { owner: 'c', fencingToken: 3 },
        firstSeq: 0,
        records: [{ type: 'status', status: 'completed' }],
      });
      assert.equal(await log.claimSaga({ sagaId: s.id, owner: 'd', leaseMs: LONG_LEASE_MS, force: true }), undefined);
      assert.equal(await log.claimSaga({ sagaId: uniqueId('missing'), owner: 'd', leaseMs: LONG_LEASE_MS, force: true }), undefined);
      const e = await started(log, { leaseMs: short });
      await elapse(ctx, short);
      assert.equal((await log.claimSaga({ sagaId: e.id, owner: 'b', leaseMs: LONG_LEASE_MS }))?.lease.fencingToken, 2, 'expired');
    });
  });

  it('release with a delay is a durable timer: no owner, claimable only once due', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('timer');
      const s = await started(log, { name });
      await log.release('owner-a', [{ sagaId: s.id, fencingToken: 1 }], short);
      const slept = await log.load(s.id);
      assert.equal(slept?.owner, null);
      assert.ok((slept?.leaseExpiresAt ?? 0) > 0);
      assert.equal(
        (await log.claim({ owner: 'w', leaseMs: LONG_LEASE_MS, limit: 5, includePending: false, names: [name] })).length,
        0,
        'not yet due',
      );
      await elapse(ctx, short);
      const due = await log.claim({ owner: 'w', leaseMs: LONG_LEASE_MS, limit: 5, includePending: false, names: [name] });
      assert.deepEqual(
        due.map((c) => [c.saga.sagaId, c.previousOwner]),
        [[s.id, null]],
      );
    });
  });

  it('meta and deadline are stored with the saga and come back from load', async () => {
    await withLog(ctx, async (log) => {
      const meta = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', é: '✓' };
      const s = await started(log, { meta, deadlineAt: 1_900_000_000_000 });
      const loaded = await log.load(s.id);
      assert.deepEqual(loaded?.meta, meta);
      assert.equal(loaded?.deadlineAt, 1_900_000_000_000);
      const plain = await started(log);
      assert.deepEqual([(await log.load(plain.id))?.meta, (await log.load(plain.id))?.deadlineAt], [null, null]);
    });
  });

  it('onCommit reports each durable commit: records and sagas', async () => {
    await withLog(ctx, async (log) => {
      const events: CommitEvent[] = [];
      log.onCommit = (e) => void events.push(e);
      const a = await started(log, { records: [step] });
      await log.append({
        sagaId: a.id,
        lease: a.lease,
        firstSeq: 1,
        records: [{ type: 'step_succeeded', step: 's1', output: null }, step],
      });
      await new Promise((r) => setTimeout(r, 20)); // a backend may report just after settling the calls
      const records = events.reduce((n, e) => n + e.records, 0);
      assert.equal(records, 3);
      assert.ok(events.every((e) => e.sagas >= 1 && e.durationMs >= 0));
      log.onCommit = () => {
        throw new Error('listener bug');
      };
      await log.append({ sagaId: a.id, lease: a.lease, firstSeq: 3, records: [step] }); // a throwing listener changes nothing
    });
  });

  it('waitForChange (when offered) wakes on a status change and times out otherwise', async () => {
    await withLog(ctx, async (log) => {
      if (!log.waitForChange) return;
      const s = await started(log);
      const t0 = Date.now();
      await log.waitForChange(s.id, 100);
      assert.ok(Date.now() - t0 >= 90, 'nothing changed: the wait ran to its timeout');
      const woken = log.waitForChange(s.id, 20_000);
      await new Promise((r) => setTimeout(r, 150)); // let a LISTEN connection come up
      await log.append({ sagaId: s.id, lease: s.lease, firstSeq: 0, records: [{ type: 'status', status: 'completed' }] });
      await woken;
      assert.ok(Date.now() - t0 < 10_000, 'woken by the change, not the timeout');
    });
  });
}
