// A handle on one saga by id, like DBOS's WorkflowHandle: read its outcome, wait for it without
// taking the saga over, or settle it (wait, and drive it if nobody else can). This is the one API
// for "what became of saga X"; SagaEngine.settle, waitFor and outcomeOf are shorthands for it.
import { startTimer } from './clock.js';
import { SagaError } from './errors.js';
import { isHandOff, settleSaga, type EngineOps } from './engine-ops.js';
import { storedOutcome, type SagaOutcome } from './outcome.js';

export interface SagaHandle {
  readonly sagaId: string;
  /** The outcome if the saga ended (completed, compensated) or is stuck; undefined while it runs. Never waits. */
  outcome(): Promise<SagaOutcome | undefined>;
  /**
   * Waits for the outcome without ever running the saga here: a watcher. A queued saga is left to
   * the workers, a saga whose owner died to whoever recovers it. Uses the log's change
   * notifications where it has them (PostgreSQL LISTEN/NOTIFY, the memory log), else polls every
   * 50 ms. Past `timeoutMs`: SAGA_WAIT_TIMEOUT. `signal` aborts the wait with its reason.
   */
  result(opts?: { timeoutMs?: number; signal?: AbortSignal }): Promise<SagaOutcome>;
  /** Waits for the outcome, taking the saga over when its owner is gone (see SagaEngine.settle). */
  settle(opts?: { timeoutMs?: number }): Promise<SagaOutcome>;
}

export function sagaHandle(e: EngineOps, sagaId: string): SagaHandle {
  return {
    sagaId,
    outcome: () => currentOutcome(e, sagaId),
    result: (opts = {}) => watchSaga(e, sagaId, opts.timeoutMs, opts.signal),
    settle: (opts = {}) => settleSaga(e, sagaId, opts.timeoutMs),
  };
}

async function currentOutcome(e: EngineOps, sagaId: string): Promise<SagaOutcome | undefined> {
  const stored = await e.log.load(sagaId);
  if (!stored) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
  return storedOutcome(stored);
}

const TIMED_OUT = Symbol('timed out');

async function watchSaga(
  e: EngineOps,
  sagaId: string,
  timeoutMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<SagaOutcome> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : e.clock.now() + timeoutMs;
  const timeout = (): SagaError => new SagaError('SAGA_WAIT_TIMEOUT', `saga ${sagaId} did not end in time`);
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const left = deadline - e.clock.now();
    const local = e.activeDone(sagaId);
    if (local) {
      // Running here: its own promise is the quickest answer. A run that was suspended (durable
      // timer) or handed off ends undefined: keep watching through the log.
      const out = await within(
        e,
        local.catch((err: unknown) => (isHandOff(err) ? undefined : Promise.reject(err))),
        left,
      );
      if (out === TIMED_OUT) throw timeout();
      if (out) return out;
      continue;
    }
    const outcome = await currentOutcome(e, sagaId);
    if (outcome) return outcome;
    if (left <= 0) throw timeout();
    const wait = Math.max(1, Math.min(left, e.log.waitForChange ? 1_000 : 50));
    if (e.log.waitForChange) await e.log.waitForChange(sagaId, wait);
    else await e.clock.sleep(wait, signal).catch(() => undefined); // an abort is rethrown above
  }
}

/** `p`, or TIMED_OUT after `ms` on the engine's clock. */
function within<T>(e: EngineOps, p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  if (!Number.isFinite(ms)) return p;
  if (ms <= 0) return Promise.resolve(TIMED_OUT);
  return new Promise((resolve, reject) => {
    const cancel = startTimer(e.clock, ms, () => resolve(TIMED_OUT));
    p.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (err: unknown) => {
        cancel();
        reject(err);
      },
    );
  });
}
