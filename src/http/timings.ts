// Wall-clock times of the sagas this server runs, from the engine's hooks. The saga log records
// what happened and in which order, but not when: a timeline on a time axis needs these stamps.
// Sagas run by other processes (workers) have none here; the timeline then falls back to log
// order (seq). Bounded: the oldest sagas are forgotten first.
import type { ErrorInfo, SagaHooks } from '../saga/index.js';

export type TimingKind =
  | 'saga_start'
  | 'saga_end'
  | 'step_start'
  | 'step_end'
  | 'comp_start'
  | 'comp_end'
  | 'retry'
  | 'claim'
  | 'takeover'
  | 'lease_lost'
  | 'fenced';

export interface TimingEvent {
  /** Epoch ms. */
  t: number;
  kind: TimingKind;
  step?: string;
  attempt?: number;
  ok?: boolean;
  status?: string;
  error?: ErrorInfo;
  /** retry: the backoff before the next attempt. */
  delayMs?: number;
  resumed?: boolean;
  /** claim, takeover, lease_lost: the fencing token from then on (or the one lost). */
  fencingToken?: number;
  previousOwner?: string | null;
  /** claim: how (recover, settle, retry, cancel); takeover: why (lease_expired, owner_dead, cancel). */
  via?: string;
}

export class SagaTimings {
  private readonly sagas = new Map<string, TimingEvent[]>();
  /** Consistency windows (postgres_pending done -> postgres_commit done), ms, newest last. */
  private readonly windows: number[] = [];
  private readonly pendingDone = new Map<string, number>();

  constructor(
    private readonly maxSagas = 5_000,
    private readonly maxEventsPerSaga = 500,
    private readonly now: () => number = Date.now,
  ) {}

  private readonly startWaiters = new Map<string, Array<() => void>>();

  /** Resolves once this process has started (or resumed) the saga: it is in the log then. */
  started(sagaId: string): Promise<void> {
    if (this.sagas.get(sagaId)?.some((e) => e.kind === 'saga_start')) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.startWaiters.get(sagaId) ?? [];
      list.push(resolve);
      this.startWaiters.set(sagaId, list);
    });
  }

  /** Drops the waiters of a saga that will not start here (its run ended without starting). */
  forget(sagaId: string): void {
    for (const w of this.startWaiters.get(sagaId) ?? []) w();
    this.startWaiters.delete(sagaId);
  }

  events(sagaId: string): TimingEvent[] | undefined {
    return this.sagas.get(sagaId);
  }

  /** Recent consistency windows in ms (at most the last 1,000). */
  consistencyWindows(): readonly number[] {
    return this.windows;
  }

  hooks(): SagaHooks {
    const add = (sagaId: string, e: Omit<TimingEvent, 't'>): void => this.add(sagaId, { t: this.now(), ...e });
    return {
      onSagaStart: (e) => {
        add(e.sagaId, { kind: 'saga_start', resumed: e.resumed });
        this.forget(e.sagaId);
      },
      onSagaEnd: (e) => {
        add(e.sagaId, { kind: 'saga_end', status: e.status, ...(e.reason ? { error: e.reason } : {}) });
        this.pendingDone.delete(e.sagaId);
      },
      onStepStart: (e) => add(e.sagaId, { kind: 'step_start', step: e.step, attempt: e.attempt }),
      onStepEnd: (e) => {
        add(e.sagaId, { kind: 'step_end', step: e.step, attempt: e.attempt, ok: e.ok, ...(e.error ? { error: e.error } : {}) });
        if (e.ok) this.window(e.sagaId, e.step);
      },
      onCompensationStart: (e) => add(e.sagaId, { kind: 'comp_start', step: e.step, attempt: e.attempt }),
      onCompensationEnd: (e) =>
        add(e.sagaId, { kind: 'comp_end', step: e.step, attempt: e.attempt, ok: e.ok, ...(e.error ? { error: e.error } : {}) }),
      onRetry: (e) => add(e.sagaId, { kind: 'retry', step: e.step, attempt: e.attempt, delayMs: e.delayMs, error: e.error }),
      onClaim: (e) => add(e.sagaId, { kind: 'claim', fencingToken: e.fencingToken, previousOwner: e.previousOwner, via: e.via }),
      onTakeover: (e) => add(e.sagaId, { kind: 'takeover', fencingToken: e.fencingToken, previousOwner: e.previousOwner, via: e.reason }),
      onLeaseLost: (e) => add(e.sagaId, { kind: 'lease_lost', fencingToken: e.fencingToken, ...(e.error ? { error: e.error } : {}) }),
      onFenced: (e) => add(e.sagaId, { kind: 'fenced' }),
    };
  }

  private add(sagaId: string, e: TimingEvent): void {
    let list = this.sagas.get(sagaId);
    if (!list) {
      list = [];
      this.sagas.set(sagaId, list);
      if (this.sagas.size > this.maxSagas) {
        const oldest = this.sagas.keys().next().value;
        if (oldest !== undefined) this.sagas.delete(oldest);
      }
    }
    if (list.length < this.maxEventsPerSaga) list.push(e);
  }

  /** The ingest saga's pending row is visible to readers from postgres_pending to postgres_commit. */
  private window(sagaId: string, step: string): void {
    if (step === 'postgres_pending') {
      this.pendingDone.set(sagaId, this.now());
      if (this.pendingDone.size > this.maxSagas) {
        const oldest = this.pendingDone.keys().next().value;
        if (oldest !== undefined) this.pendingDone.delete(oldest);
      }
    } else if (step === 'postgres_commit') {
      const from = this.pendingDone.get(sagaId);
      if (from === undefined) return;
      this.pendingDone.delete(sagaId);
      this.windows.push(this.now() - from);
      if (this.windows.length > 1_000) this.windows.shift();
    }
  }
}
