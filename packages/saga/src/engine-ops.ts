// Engine operations that act on one saga by id and need the engine's internals through a narrow
// interface: cancel (compensate before the pivot, wherever the saga runs) and the operator retry
// of a stuck saga (two concurrent retries run it once). Kept apart so engine.ts stays readable.
import type { Clock } from './clock.js';
import type { SagaDefinition } from './define.js';
import type { DriveResult } from './drive.js';
import { SagaError, isFenced, isSagaError } from './errors.js';
import type { ClaimVia } from './events.js';
import type { CancelInfo, Claimed, SagaLog, StoredSaga } from './log.js';
import { storedOutcome, type SagaOutcome } from './outcome.js';
import { pivotStarted, replay, type ResumePlan } from './replay.js';
import type { SagaRun } from './run.js';

export interface EngineOps {
  log: SagaLog;
  owner: string;
  leaseMs: number;
  /** The engine's clock: every wait and deadline here goes through it. */
  clock: Clock;
  active(sagaId: string): SagaRun | undefined;
  definition(name: string, version: number): SagaDefinition | undefined;
  resumable(
    stored: StoredSaga,
    claimed: Claimed,
    via: ClaimVia,
    takeover?: 'lease_expired' | 'owner_dead' | 'cancel',
  ): Promise<{ run: SagaRun; plan: ResumePlan } | undefined>;
  run(run: SagaRun, plan: ResumePlan): Promise<DriveResult>;
  awaitRun(run: SagaRun, done: Promise<DriveResult>): Promise<SagaOutcome>;
  settle(sagaId: string): Promise<SagaOutcome>;
  activeDone(sagaId: string): Promise<DriveResult> | undefined;
  isClosed(): boolean;
  /** The runtime's liveness check (EngineOptions.runtime). */
  isDeadOwner(owner: string): boolean;
}

export function unknownDefinition(s: { name: string; version: number }): SagaError {
  return new SagaError('SAGA_UNKNOWN_DEFINITION', `no definition registered for ${s.name}@${s.version}`);
}

export async function cancelSaga(e: EngineOps, sagaId: string, reason: string, by: string): Promise<SagaOutcome> {
  const why = { code: 'SAGA_CANCELLED', message: reason };
  const info = (): CancelInfo => ({ by, at: e.clock.now(), message: reason });
  const refuse = (): SagaError =>
    new SagaError('SAGA_NOT_CANCELLABLE', `saga ${sagaId} passed its pivot (or completed): it can only go forward`);
  for (;;) {
    const local = e.active(sagaId);
    if (local) {
      if (!local.rollingBack && !local.interruptForward(why) && local.interrupt?.code !== 'SAGA_CANCELLED') throw refuse();
      if (local.interrupt === why) local.cancel = info();
      return e.settle(sagaId);
    }
    const stored = await e.log.load(sagaId);
    if (!stored) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
    if (stored.status === 'compensated') return storedOutcome(stored) as SagaOutcome;
    const def = e.definition(stored.name, stored.version);
    if (stored.status === 'completed' || (def && pivotStarted(def, replay(stored.records, stored.status)))) throw refuse();
    if (!def) throw unknownDefinition(stored);
    const claimed =
      stored.status === 'stuck'
        ? await e.log.claimStuck(sagaId, e.owner, e.leaseMs).then((c) => (c ? { ...c, previousOwner: stored.owner } : undefined))
        : await e.log.claimSaga({ sagaId, owner: e.owner, leaseMs: e.leaseMs, force: true });
    if (!claimed) continue; // it moved meanwhile: look again
    const fresh = await e.log.load(sagaId);
    if (!fresh) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
    const r = await e.resumable(fresh, claimed, 'cancel', 'cancel');
    if (!r) throw unknownDefinition(fresh);
    if (r.run.pivotStarted) {
      // The old owner started the pivot before it was fenced: carry it forward, refuse the cancel.
      e.run(r.run, r.plan).catch(() => undefined);
      throw refuse();
    }
    // A saga that had already failed (stuck, or compensating) keeps that failure as its reason;
    // the cancellation is recorded beside it (who, when, why) on the compensating record.
    const failed = (stored.status === 'stuck' || stored.status === 'compensating') && stored.reason !== null ? stored.reason : undefined;
    r.run.cancel = info();
    const plan: ResumePlan = r.plan.action === 'done' ? r.plan : { action: 'compensate', reason: failed ?? why };
    return e.awaitRun(r.run, e.run(r.run, plan));
  }
}

/** Operator retry of a stuck saga: forward, or compensation if it was rolling back. */
export async function retryStuckSaga(e: EngineOps, sagaId: string): Promise<SagaOutcome> {
  for (let first = true; ; first = false) {
    const claimed = await e.log.claimStuck(sagaId, e.owner, e.leaseMs);
    const stored = await e.log.load(sagaId);
    if (!stored) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
    if (claimed) {
      const r = await e.resumable(stored, { ...claimed, previousOwner: null }, 'retry');
      if (!r) throw unknownDefinition(stored);
      return e.awaitRun(r.run, e.run(r.run, r.plan));
    }
    if (stored.status !== 'stuck') {
      // Another retry moved it on: its real outcome, never a stale `stuck`.
      if (first && (stored.status === 'completed' || stored.status === 'compensated')) {
        throw new SagaError('SAGA_NOT_STUCK', `saga ${sagaId} is not stuck (it is ${stored.status})`);
      }
      return e.settle(sagaId);
    }
    // Stuck under a live lease: another retry has claimed it and not written yet.
    if (e.log.waitForChange) await e.log.waitForChange(sagaId, 200);
    else await e.clock.sleep(20);
  }
}

/**
 * settle(): the outcome of an existing saga, driving it if nobody else can (see SagaEngine.settle).
 */
export async function settleSaga(e: EngineOps, sagaId: string, timeoutMs: number | undefined): Promise<SagaOutcome> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : e.clock.now() + timeoutMs;
  for (;;) {
    const local = e.activeDone(sagaId);
    if (local) {
      const out = await local.catch((err: unknown) => (isHandOff(err) ? undefined : Promise.reject(err)));
      if (out) return out;
    } else {
      const stored = await e.log.load(sagaId);
      if (!stored) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
      const outcome = storedOutcome(stored);
      if (outcome) return outcome;
      const taken = await takeIfOrphaned(e, stored);
      if (taken) return taken;
      const now = e.clock.now();
      if (now > deadline) throw new SagaError('SAGA_WAIT_TIMEOUT', `saga ${sagaId} did not end in time`);
      const leaseLeft = stored.leaseExpiresAt === null ? 0 : stored.leaseExpiresAt - now + 5;
      const wait = Math.max(1, Math.min(deadline - now, Math.max(leaseLeft, 1), e.log.waitForChange ? 1_000 : 50));
      if (e.log.waitForChange) await e.log.waitForChange(sagaId, wait);
      else await e.clock.sleep(wait);
    }
  }
}

/** Claims the saga if its owner is gone (lease expired, dead process on this host, or us). */
async function takeIfOrphaned(e: EngineOps, stored: StoredSaga): Promise<SagaOutcome | undefined> {
  if (e.isClosed() || !e.definition(stored.name, stored.version)) return undefined;
  const expired = stored.leaseExpiresAt === null || stored.leaseExpiresAt <= e.clock.now();
  const dead = stored.owner !== null && (stored.owner === e.owner || e.isDeadOwner(stored.owner));
  if (!expired && !dead) return undefined;
  const held = dead ? { ifHeldBy: { owner: stored.owner, fencingToken: stored.fencingToken } } : {};
  const claimed = await e.log.claimSaga({ sagaId: stored.sagaId, owner: e.owner, leaseMs: e.leaseMs, ...held });
  if (!claimed) return undefined;
  const fresh = await e.log.load(stored.sagaId);
  if (!fresh) return undefined;
  const r = await e.resumable(fresh, claimed, 'settle', dead ? 'owner_dead' : 'lease_expired');
  if (!r) return undefined;
  const out = await e.run(r.run, r.plan).catch((err: unknown) => (isHandOff(err) ? undefined : Promise.reject(err)));
  return out; // undefined: suspended or lost again; the caller keeps waiting
}

/** Lost to another owner or the lease ran out: the saga goes on elsewhere (or here, via settle). */
export function isHandOff(err: unknown): boolean {
  return isFenced(err) || isSagaError(err, 'SAGA_LEASE_LOST');
}
