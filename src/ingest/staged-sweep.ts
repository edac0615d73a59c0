// Removes staged saga content (saga_inputs, docs/erasure.md) that no saga needs any more: the saga
// ended (completed or compensated) but its last action's removal did not run (a crash, a saga
// ended by `sagas cancel`), or the front staged it and died before the saga began. A stuck saga
// keeps its content (`sagas retry` needs it), and so does every saga that has not ended.
import type { SagaEngine, SagaLog, SagaOutcome } from '../saga/index.js';
import { isFinal } from '../saga/index.js';
import type { StagedRef, StoreSet } from '../stores/types.js';

/** A staged row whose saga the log does not know is kept this long (the front stages, then begins). */
export const STAGED_GRACE_MS = 10 * 60_000;

const PAGE = 500;

/** Which staged sagas have ended, by the log: final, or unknown past the grace period. */
export function endedOf(log: Pick<SagaLog, 'load'>, graceMs = STAGED_GRACE_MS) {
  return async (staged: readonly StagedRef[]): Promise<Set<string>> => {
    const ended = new Set<string>();
    for (const ref of staged) {
      const saga = await log.load(ref.sagaId);
      if (saga ? isFinal(saga.status) : ref.ageMs > graceMs) ended.add(ref.sagaId);
    }
    return ended;
  };
}

/** One pass over every staged row: removes those of ended sagas; returns how many went. */
export async function sweepStagedInputs(stores: StoreSet, log: Pick<SagaLog, 'load'>, opts: { graceMs?: number } = {}): Promise<number> {
  const ended = endedOf(log, opts.graceMs);
  let removed = 0;
  for (let after: string | undefined; ; ) {
    const page = await stores.postgres.listStaged(after === undefined ? {} : { afterSagaId: after }, PAGE);
    if (page.length > 0) removed += await stores.postgres.dropStagedInputs([...(await ended(page))]);
    if (page.length < PAGE) return removed;
    after = page[page.length - 1]?.sagaId;
  }
}

/**
 * `sagas cancel` (CLI and HTTP): cancels, then removes the saga's staged content once it has ended.
 * A queued saga that never started runs no step, so no compensation removes its content; without
 * this it stayed until `vacuum` -- the content of a write the user just called off.
 */
export async function cancelAndForget(
  engine: Pick<SagaEngine, 'cancel'>,
  stores: Pick<StoreSet, 'postgres'>,
  sagaId: string,
  reason: string,
  opts: { by?: string } = {},
): Promise<SagaOutcome> {
  const outcome = await engine.cancel(sagaId, reason, opts);
  // The cancel itself succeeded: a failed removal is not reported as a failed cancel; `vacuum`
  // sweeps what is left (an ended saga's row), as it does after a crash.
  if (isFinal(outcome.status)) await stores.postgres.dropStagedInputs([outcome.sagaId]).catch(() => undefined);
  return outcome;
}
