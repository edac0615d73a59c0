// What a caller learns about a saga: its final (or stuck) status, the outputs of the steps that
// succeeded, and why it did not complete. Built from a live run or from the log.
import { isFinal, type ErrorInfo, type StoredSaga } from './log.js';
import { replay } from './replay.js';

export interface SagaOutcome<R = Record<string, unknown>> {
  sagaId: string;
  saga: string;
  status: 'completed' | 'compensated' | 'stuck';
  /** Outputs of the steps that succeeded. */
  results: Partial<R>;
  /** Why the saga compensated or is stuck. */
  reason?: ErrorInfo;
  /** false when the id already existed and this call only reported its outcome. */
  executed: boolean;
}

export function storedOutcome(stored: StoredSaga): SagaOutcome | undefined {
  if (!isFinal(stored.status) && stored.status !== 'stuck') return undefined;
  const replayed = replay(stored.records, stored.status);
  const results: Record<string, unknown> = {};
  for (const [name, s] of replayed.steps) if (s.outcome === 'succeeded') results[name] = s.output;
  const outcome: SagaOutcome = {
    sagaId: stored.sagaId,
    saga: stored.name,
    status: stored.status as SagaOutcome['status'],
    results,
    executed: false,
  };
  const reason = replayed.reason ?? stored.reason ?? undefined;
  if (stored.status !== 'completed' && reason) outcome.reason = reason;
  return outcome;
}
