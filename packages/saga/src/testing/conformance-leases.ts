// The lease half of the SagaLogBackend conformance suite: claim (expired leases only, pending, names,
// never two owners at once), fencing after a claim, renew, release and claimStuck.
import assert from 'node:assert/strict';
import type { LogRecord, SagaLogBackend } from '../log.js';
import type { SuiteContext } from './conformance.js';
import { elapse, LONG_LEASE_MS, rejectsWith, started, uniqueId, withLog } from './conformance.js';

const step: LogRecord = { type: 'step_started', step: 's1', attempt: 1 };

async function setStatus(
  log: SagaLogBackend,
  id: string,
  lease: { owner: string; fencingToken: number },
  status: 'completed' | 'compensated' | 'stuck' | 'compensating',
): Promise<void> {
  await log.append({ sagaId: id, lease, firstSeq: 0, records: [{ type: 'status', status }] });
}

export function sagaLogLeaseConformance(ctx: SuiteContext): void {
  const { it } = ctx.opts.test;
  const short = ctx.opts.shortLeaseMs;

  it('claim takes only expired running/compensating sagas, bumps the token and fences the old owner', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('claim');
      const expired = await started(log, { name, leaseMs: short });
      const compensating = await started(log, { name, leaseMs: short });
      await setStatus(log, compensating.id, compensating.lease, 'compensating');
      const live = await started(log, { name, leaseMs: LONG_LEASE_MS });
      const extended = await started(log, { name, leaseMs: short });
      await log.append({ sagaId: extended.id, lease: extended.lease, firstSeq: 0, records: [step], leaseMs: LONG_LEASE_MS });
      for (const status of ['completed', 'compensated', 'stuck'] as const) {
        const s = await started(log, { name, leaseMs: short });
        await setStatus(log, s.id, s.lease, status);
      }
      await elapse(ctx, short);
      const claimed = await log.claim({ owner: 'owner-b', leaseMs: LONG_LEASE_MS, limit: 10, includePending: false, names: [name] });
      assert.deepEqual(claimed.map((c) => c.saga.sagaId).sort(), [expired.id, compensating.id].sort());
      for (const c of claimed) {
        assert.deepEqual(c.lease, { owner: 'owner-b', fencingToken: 2 });
        assert.equal(c.saga.owner, 'owner-b');
        assert.equal(c.saga.fencingToken, 2);
      }
      assert.equal((await log.load(live.id))?.fencingToken, 1);
      // The old owner is fenced; the new one appends.
      await rejectsWith(log.append({ sagaId: expired.id, lease: expired.lease, firstSeq: 0, records: [step] }), 'SAGA_FENCED');
      const claimedLease = claimed.find((c) => c.saga.sagaId === expired.id)?.lease;
      assert.ok(claimedLease);
      await log.append({ sagaId: expired.id, lease: claimedLease, firstSeq: 0, records: [step] });
      assert.deepEqual((await log.load(expired.id))?.records, [step]);
      // A fresh claim finds nothing: the new leases are live.
      assert.deepEqual(await log.claim({ owner: 'owner-c', leaseMs: short, limit: 10, includePending: true, names: [name] }), []);
    });
  });

  it('claims pending sagas only when asked, oldest first, up to the limit, for the named sagas only', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('queue');
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const id = `q-${i}-${uniqueId('s')}`;
        ids.push(id);
        await log.begin({ sagaId: id, name, version: 1, input: i, status: 'pending', owner: null, leaseMs: 0 });
        ctx.opts.advance?.(5);
      }
      const other = uniqueId('other');
      await log.begin({ sagaId: other, name: uniqueId('other-name'), version: 1, input: null, status: 'pending', owner: null, leaseMs: 0 });
      assert.deepEqual(await log.claim({ owner: 'w', leaseMs: LONG_LEASE_MS, limit: 10, includePending: false, names: [name] }), []);
      const first = await log.claim({ owner: 'w', leaseMs: LONG_LEASE_MS, limit: 2, includePending: true, names: [name, 'no-such-name'] });
      assert.deepEqual(
        first.map((c) => c.saga.sagaId),
        [ids[0], ids[1]],
      );
      assert.deepEqual(
        first.map((c) => c.lease),
        [
          { owner: 'w', fencingToken: 1 },
          { owner: 'w', fencingToken: 1 },
        ],
      );
      const rest = await log.claim({ owner: 'w2', leaseMs: LONG_LEASE_MS, limit: 10, includePending: true, names: [name] });
      assert.deepEqual(
        rest.map((c) => c.saga.sagaId),
        [ids[2]],
      );
      assert.equal((await log.load(other))?.owner, null, 'names filter leaves other sagas alone');
      // The claimer moves the saga on with its new lease.
      const lease = first[0]?.lease;
      assert.ok(lease && ids[0]);
      await log.append({ sagaId: ids[0], lease, firstSeq: 0, records: [{ type: 'status', status: 'running' }, step] });
      assert.equal((await log.load(ids[0]))?.status, 'running');
      assert.equal((await log.claim({ owner: 'x', leaseMs: 1, limit: 0, includePending: true })).length, 0);
    });
  });

  it('concurrent claims never hand the same saga to two owners', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('race');
      const ids = new Set<string>();
      for (let i = 0; i < 24; i++) ids.add((await started(log, { name, leaseMs: short })).id);
      await elapse(ctx, short);
      const results = await Promise.all(
        ['w1', 'w2', 'w3', 'w4'].map((owner) =>
          log.claim({ owner, leaseMs: LONG_LEASE_MS, limit: 8, includePending: false, names: [name] }),
        ),
      );
      const all = results.flat().map((c) => c.saga.sagaId);
      assert.equal(new Set(all).size, all.length, 'no saga claimed twice');
      assert.equal(all.length, 24);
      assert.deepEqual(new Set(all), ids);
      for (const c of results.flat()) assert.equal(c.lease.fencingToken, 2);
    });
  });

  it('renew extends held leases and reports the lost ones; finished sagas are simply not renewed', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('renew');
      const kept = await started(log, { name, leaseMs: short });
      const stolen = await started(log, { name, leaseMs: short });
      const done = await started(log, { name, leaseMs: short });
      await setStatus(log, done.id, done.lease, 'completed');
      await elapse(ctx, short);
      const [theft] = await log.claim({ owner: 'thief', leaseMs: LONG_LEASE_MS, limit: 1, includePending: false, names: [name] });
      // The thief took one of the two expired sagas; which one does not matter.
      assert.ok(theft);
      const victim = theft.saga.sagaId === kept.id ? kept : stolen;
      const survivor = victim === kept ? stolen : kept;
      const missing = uniqueId('missing');
      const held = [survivor, victim, done].map((s) => ({ sagaId: s.id, fencingToken: s.lease.fencingToken }));
      const lost = await log.renew('owner-a', [...held, { sagaId: missing, fencingToken: 1 }], LONG_LEASE_MS);
      assert.deepEqual(lost.sort(), [victim.id, missing].sort());
      // The renewed lease outlives the short one: nothing is claimable now.
      await elapse(ctx, short);
      assert.deepEqual(await log.claim({ owner: 'other', leaseMs: short, limit: 10, includePending: false, names: [name] }), []);
      await log.append({ sagaId: survivor.id, lease: survivor.lease, firstSeq: 0, records: [step] });
    });
  });

  it('release makes held sagas claimable at once; a stale release does nothing', async () => {
    await withLog(ctx, async (log) => {
      const name = uniqueId('release');
      const a = await started(log, { name });
      const b = await started(log, { name });
      await log.release('owner-a', [
        { sagaId: a.id, fencingToken: a.lease.fencingToken },
        { sagaId: b.id, fencingToken: 7 },
      ]);
      const claimed = await log.claim({ owner: 'owner-b', leaseMs: LONG_LEASE_MS, limit: 10, includePending: false, names: [name] });
      assert.deepEqual(
        claimed.map((c) => c.saga.sagaId),
        [a.id],
      );
      await log.release('owner-a', [{ sagaId: a.id, fencingToken: a.lease.fencingToken }]);
      assert.deepEqual(await log.claim({ owner: 'owner-c', leaseMs: 1, limit: 10, includePending: false, names: [name] }), []);
    });
  });

  it('claimStuck takes one stuck saga for an operator retry and nothing else', async () => {
    await withLog(ctx, async (log) => {
      const stuck = await started(log);
      const reason = { code: 'COMPENSATION_EXHAUSTED', message: 'gave up' };
      await log.append({ sagaId: stuck.id, lease: stuck.lease, firstSeq: 0, records: [{ type: 'status', status: 'stuck', reason }] });
      // Under a live lease (another retry holds it) a stuck saga is not taken: retries never run twice.
      assert.equal(await log.claimStuck(stuck.id, 'operator', LONG_LEASE_MS), undefined);
      await log.release('owner-a', [{ sagaId: stuck.id, fencingToken: stuck.lease.fencingToken }]);
      const running = await started(log);
      assert.equal(await log.claimStuck(running.id, 'operator', LONG_LEASE_MS), undefined);
      assert.equal(await log.claimStuck(uniqueId('missing'), 'operator', LONG_LEASE_MS), undefined);
      const taken = await log.claimStuck(stuck.id, 'operator', LONG_LEASE_MS);
      assert.ok(taken);
      assert.deepEqual(taken.lease, { owner: 'operator', fencingToken: 2 });
      assert.equal(taken.saga.status, 'stuck');
      assert.deepEqual(taken.saga.reason, reason);
      await rejectsWith(log.append({ sagaId: stuck.id, lease: stuck.lease, firstSeq: 1, records: [step] }), 'SAGA_FENCED');
      await log.append({ sagaId: stuck.id, lease: taken.lease, firstSeq: 1, records: [{ type: 'status', status: 'compensating' }] });
      assert.equal((await log.load(stuck.id))?.status, 'compensating');
      assert.equal(await log.claimStuck(stuck.id, 'operator', LONG_LEASE_MS), undefined);
    });
  });
}
