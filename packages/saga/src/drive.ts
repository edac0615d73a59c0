// Drives one SagaRun from a resume plan to where this process stops working on it: an outcome
// (completed, compensated, stuck), a durable timer (suspended), or an interruption (fenced, lease
// lost, shutdown, error). Emits onSagaStart and exactly one onSagaEnd on every path.
import { compensateAll } from './compensate.js';
import { isFenced, SagaError, toErrorInfo } from './errors.js';
import type { SagaEndStatus } from './events.js';
import { runStages } from './forward.js';
import type { ErrorInfo } from './log.js';
import type { SagaOutcome } from './outcome.js';
import type { ResumePlan } from './replay.js';
import type { SagaRun } from './run.js';

/** undefined: the saga is suspended on a durable timer (another claim resumes it when due). */
export type DriveResult = SagaOutcome | undefined;

export async function drive(run: SagaRun, plan: ResumePlan, resumed: boolean, closing: () => boolean): Promise<DriveResult> {
  const hooks = run.env.hooks;
  const meta = run.meta ? { meta: run.meta } : {};
  if (!hooks.empty) hooks.emit('onSagaStart', { ...run.eventBase, resumed, ...meta });
  let end: SagaEndStatus = 'error';
  let endReason: ErrorInfo | undefined;
  run.armDeadline();
  try {
    const status = await follow(run, plan);
    if (status === 'suspended') {
      end = 'suspended';
      return undefined;
    }
    if (status === 'stuck') {
      // An operator (or a concurrent retry) may take it at once: give the lease back.
      await run.env.log.release(run.lease.owner, [{ sagaId: run.sagaId, fencingToken: run.lease.fencingToken }]).catch(() => undefined);
    }
    end = status === 'compensated' && run.reason?.code === 'SAGA_CANCELLED' ? 'cancelled' : status;
    if (status !== 'completed') endReason = run.reason;
    const outcome: SagaOutcome = { sagaId: run.sagaId, saga: run.def.name, status, results: { ...run.results }, executed: true };
    if (status !== 'completed' && run.reason) outcome.reason = run.reason;
    return outcome;
  } catch (err) {
    const why = run.scope.cancelled ? run.scope.reason : err;
    if (isFenced(err) || isFenced(why)) {
      end = 'fenced';
      if (!hooks.empty) hooks.emit('onFenced', run.eventBase);
      throw new SagaError('SAGA_FENCED', `saga ${run.sagaId}: taken over by another owner`, { cause: err });
    }
    if (codeOf(why) === 'SAGA_LEASE_LOST') end = 'lease_lost';
    else if (closing() && run.scope.cancelled) end = 'shutdown';
    endReason = toErrorInfo(why);
    throw why instanceof Error ? why : err;
  } finally {
    run.disarmDeadline();
    if (!hooks.empty) {
      const e = { ...run.eventBase, status: end, durationMs: run.env.clock.now() - run.startedAt, ...meta };
      hooks.emit('onSagaEnd', endReason ? { ...e, reason: endReason } : e);
    }
  }
}

async function follow(run: SagaRun, plan: ResumePlan): Promise<SagaOutcome['status'] | 'suspended'> {
  switch (plan.action) {
    case 'done':
      return run.status === 'completed' ? 'completed' : 'compensated';
    case 'complete':
      await run.setStatus('completed');
      return 'completed';
    case 'stuck':
      await run.setStatus('stuck', plan.reason);
      return 'stuck';
    case 'compensate':
      return rollBack(run, plan.reason);
    case 'forward': {
      if (run.status !== 'running') run.buffer({ type: 'status', status: 'running' });
      const result = await runStages(run, plan.fromStage);
      stopIfAborted(run);
      if (result.ok) {
        await run.setStatus('completed');
        return 'completed';
      }
      if (result.suspendMs !== undefined) {
        await run.write([]);
        stopIfAborted(run);
        await run.env.log.release(run.lease.owner, [{ sagaId: run.sagaId, fencingToken: run.lease.fencingToken }], result.suspendMs);
        return 'suspended';
      }
      if (pivotPassed(run)) {
        await run.setStatus('stuck', result.error);
        return 'stuck';
      }
      return rollBack(run, run.interrupt ?? result.error);
    }
  }
}

async function rollBack(run: SagaRun, reason: ErrorInfo): Promise<'compensated' | 'stuck'> {
  const status = await compensateAll(run, reason);
  stopIfAborted(run);
  return status;
}

function pivotPassed(run: SagaRun): boolean {
  const stage = run.def.stages[run.def.pivotStage];
  const pivot = stage?.steps[0];
  return pivot !== undefined && run.steps.get(pivot.name)?.outcome === 'succeeded';
}

/** A run whose lease was lost or whose engine is closing writes nothing more. */
function stopIfAborted(run: SagaRun): void {
  if (run.scope.cancelled) throw run.scope.reason;
}

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
