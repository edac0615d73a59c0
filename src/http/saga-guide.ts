// What the saga page tells an operator beyond the raw records: the actions the engine would accept
// (so the page never offers a Cancel the server refuses), what Retry will do in words, who
// cancelled the saga and when (the original failure stays its reason), and its errors collapsed
// ("x25, first ..., last ...") instead of one line per attempt.
import { operatorActions, type LogRecord, type SagaDefinition, type StoredSaga } from '../saga/index.js';

export function actionsView(def: SagaDefinition | undefined, saga: StoredSaga) {
  const a = operatorActions(def, saga);
  const retryText =
    a.retryWill === 'forward'
      ? a.pivotStarted
        ? 'Retry goes forward: the saga passed its pivot (the commit), so it can only finish. The remaining steps run again with the same idempotency keys until they succeed.'
        : 'Retry goes forward: no step failed for good; the steps in doubt run again (same idempotency keys) and the saga carries on.'
      : a.retryWill === 'compensate'
        ? 'Retry continues undoing: the saga failed before its pivot, so it compensates the steps that ran (newest first). Nothing of this write will be visible.'
        : null;
  const cancelText = a.allowed.includes('cancel')
    ? 'Cancel compensates the saga (it has not reached its pivot): every step that ran is undone. Its original failure, if any, stays its reason.'
    : null;
  const why =
    def === undefined
      ? 'This server has no definition of this saga (name@version): it cannot act on it.'
      : a.pivotStarted && saga.status !== 'completed'
        ? 'No Cancel: the saga passed its pivot and can only go forward.'
        : null;
  return { allowed: a.allowed, retryWill: a.retryWill, pivotStarted: a.pivotStarted, retryText, cancelText, note: why };
}

export function cancellationOf(records: readonly LogRecord[]): { by: string; at: string; message: string } | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const r = records[i];
    if (r?.type === 'status' && r.cancel) return { by: r.cancel.by, at: new Date(r.cancel.at).toISOString(), message: r.cancel.message };
  }
  return null;
}

interface BarLike {
  step: string;
  phase: 'forward' | 'compensation';
  attempt: number;
  start: number;
  end: number | null;
  error: { code: string; message: string } | null;
}

export interface ErrorGroup {
  phase: 'forward' | 'compensation';
  step: string;
  code: string;
  message: string;
  count: number;
  firstAttempt: number;
  lastAttempt: number;
  /** Epoch ms on a wall-clock timeline, else null. */
  firstAt: number | null;
  lastAt: number | null;
}

/**
 * Errors of one step and phase with the same code, collapsed, in the order they first happened:
 * messages of repeated attempts differ only in details (a call number, a port), the code is what
 * repeats. `message` is the latest one.
 */
export function errorGroups(bars: readonly BarLike[], wall: boolean): ErrorGroup[] {
  const groups = new Map<string, ErrorGroup>();
  for (const b of bars) {
    if (!b.error) continue;
    const k = `${b.phase}\u0000${b.step}\u0000${b.error.code}`;
    const at = wall ? (b.end ?? b.start) : null;
    const g = groups.get(k);
    if (g) {
      g.count++;
      g.lastAttempt = Math.max(g.lastAttempt, b.attempt);
      g.lastAt = at;
      g.message = b.error.message;
    } else {
      groups.set(k, {
        phase: b.phase,
        step: b.step,
        code: b.error.code,
        message: b.error.message,
        count: 1,
        firstAttempt: b.attempt,
        lastAttempt: b.attempt,
        firstAt: at,
        lastAt: at,
      });
    }
  }
  return [...groups.values()];
}
