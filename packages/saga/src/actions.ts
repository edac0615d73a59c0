// What an operator can do with a saga, and what it would do, decided from the log the way the
// engine itself decides (replay + pivot): the API shows only these actions, so it never offers a
// Cancel the engine would refuse, and it can say in words what Retry will do.
import type { SagaDefinition } from './define.js';
import type { StoredSaga } from './log.js';
import { pivotStarted, planResume, replay } from './replay.js';

export interface OperatorActions {
  /** retry: an operator retry of a stuck saga; cancel: compensate before the pivot. */
  allowed: Array<'retry' | 'cancel'>;
  /** For a stuck saga: where a retry goes. */
  retryWill: 'forward' | 'compensate' | null;
  /** The pivot has a durable step_started: the saga can only go forward. */
  pivotStarted: boolean;
}

export function operatorActions(def: SagaDefinition | undefined, saga: StoredSaga): OperatorActions {
  const ended = saga.status === 'completed' || saga.status === 'compensated';
  if (!def) return { allowed: [], retryWill: null, pivotStarted: false };
  const state = replay(saga.records, saga.status);
  const past = pivotStarted(def, state);
  const allowed: Array<'retry' | 'cancel'> = [];
  let retryWill: OperatorActions['retryWill'] = null;
  if (saga.status === 'stuck') {
    allowed.push('retry');
    const plan = planResume(def, state);
    retryWill = plan.action === 'compensate' ? 'compensate' : 'forward';
  }
  if (!ended && !past) allowed.push('cancel');
  return { allowed, retryWill, pivotStarted: past };
}
