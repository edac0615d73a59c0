// One saga being executed by this process: its in-memory state and its ordered, durable writes.
//
// Why records are buffered: a step's outcome only has to be durable before anything depends on
// it (the next step's start, a status change, the caller's answer). So an outcome waits in
// `buffered` and rides along with the next append, which halves the commits per saga. If the
// process dies in between, the step reads as "started, outcome unknown", which recovery already
// treats as "maybe applied": the same as dying during the step.
import { CancelScope } from './cancel.js';
import { startTimer, type Clock } from './clock.js';
import { resultReader, type SagaDefinition, type StepContext } from './define.js';
import type { HookBus } from './events.js';
import { SagaError, type SagaErrorCode } from './errors.js';
import {
  canTransition,
  type CancelInfo,
  type ErrorInfo,
  type Json,
  type Lease,
  type LogRecord,
  type SagaLog,
  type SagaMeta,
  type SagaStatus,
} from './log.js';
import type { ReplayedSaga, StepState } from './replay.js';

export interface RunEnv {
  log: SagaLog;
  clock: Clock;
  hooks: HookBus;
  leaseMs: number;
  /** Backoffs longer than this become durable timers (the saga is released until due). */
  durableTimerThresholdMs: number;
}

/** Where a saga came from beyond its header: caller meta and deadline, as stored at begin. */
export interface RunExtras {
  meta?: SagaMeta | undefined;
  deadlineAt?: number | undefined;
}

export class SagaRun {
  readonly steps = new Map<string, StepState>();
  /** Step names in the order they first started (compensation runs this in reverse). */
  readonly started: string[] = [];
  readonly results: Record<string, unknown> = {};
  status: SagaStatus;
  reason: ErrorInfo | undefined;
  rollingBack = false;
  /** Cancels every attempt of this saga and stops its writes: lease lost, fenced, or engine shutdown. */
  readonly scope = new CancelScope();
  /**
   * Cancels the forward steps only (cancel() or the deadline, before the pivot): the saga then
   * compensates, so its writes go on. A child of `scope`.
   */
  readonly work: CancelScope;
  /** Why the forward phase was cancelled (SAGA_CANCELLED, SAGA_DEADLINE), if it was. */
  interrupt: ErrorInfo | undefined;
  /** Set by cancel(): written on the `compensating` status record. */
  cancel: CancelInfo | undefined;
  /** Set when the pivot's step_started is about to be written: cancel and deadline no longer apply. */
  pivotStarted = false;
  /** Local-clock time before which the lease is known to be held (heartbeat bookkeeping). */
  leaseValidUntil: number;
  readonly meta: SagaMeta | undefined;
  readonly deadlineAt: number | undefined;
  private cancelDeadline: (() => void) | undefined;
  private buffered: LogRecord[] = [];
  private nextSeq: number;
  private tail: Promise<void> = Promise.resolve();
  private broken: unknown;
  readonly startedAt: number;

  constructor(
    readonly env: RunEnv,
    readonly def: SagaDefinition,
    readonly sagaId: string,
    readonly input: unknown,
    public lease: Lease,
    status: SagaStatus,
    replayed?: ReplayedSaga,
    extras: RunExtras = {},
  ) {
    this.status = status;
    this.nextSeq = replayed?.nextSeq ?? 0;
    this.startedAt = env.clock.now();
    this.leaseValidUntil = this.startedAt + env.leaseMs;
    this.work = this.scope.child().scope;
    this.meta = extras.meta;
    this.deadlineAt = extras.deadlineAt;
    if (replayed) {
      for (const name of replayed.started) {
        const s = replayed.steps.get(name);
        if (!s) continue;
        this.steps.set(name, { ...s });
        this.started.push(name);
        if (s.outcome === 'succeeded') this.results[name] = s.output;
      }
      this.rollingBack = replayed.rollingBack;
      this.reason = replayed.reason;
      const pivot = def.pivotStage >= 0 ? def.stages[def.pivotStage]?.steps[0] : undefined;
      this.pivotStarted = pivot !== undefined && replayed.steps.has(pivot.name);
    }
  }

  /** Cancels the forward phase (before the pivot only); the engine then compensates with `reason`. */
  interruptForward(reason: ErrorInfo): boolean {
    if (this.pivotStarted || this.work.cancelled) return false;
    this.interrupt = reason;
    this.work.cancel(new SagaError(reason.code as SagaErrorCode, reason.message));
    return true;
  }

  /** Past the deadline (engine clock), the forward phase is cancelled unless the pivot started. */
  armDeadline(): void {
    if (this.deadlineAt === undefined || this.pivotStarted) return;
    const fire = (): void => void this.interruptForward(deadlineReason(this.deadlineAt ?? 0));
    const wait = this.deadlineAt - this.env.clock.now();
    if (wait <= 0) return fire();
    // On the engine's clock (a simulated one controls deadlines); never keeps the process alive.
    this.cancelDeadline = startTimer(this.env.clock, wait, fire, { unref: true });
  }

  disarmDeadline(): void {
    this.cancelDeadline?.();
    this.cancelDeadline = undefined;
  }

  /** The base of every hook event of this saga. */
  get eventBase(): { sagaId: string; saga: string; version: number } {
    return { sagaId: this.sagaId, saga: this.def.name, version: this.def.version };
  }

  stepState(name: string): StepState {
    let s = this.steps.get(name);
    if (!s) {
      s = { outcome: 'unknown', attempts: 0, compensated: false, compensationAttempts: 0 };
      this.steps.set(name, s);
      this.started.push(name);
    }
    return s;
  }

  /** Steps whose attempt-1 `step_started` went to the log with `begin` (see SagaEngine.execute). */
  private preStarted: Set<string> | undefined;

  /** Records that `begin` already made durable at seq 0.. (the first stage's step_started). */
  startedWithBegin(records: readonly LogRecord[]): void {
    this.nextSeq += records.length;
    this.preStarted = new Set(records.flatMap((r) => (r.type === 'step_started' ? [r.step] : [])));
  }

  /** True once for a step whose first `step_started` is already durable. */
  takePreStarted(step: string, attempt: number): boolean {
    if (attempt !== 1 || !this.preStarted?.delete(step)) return false;
    return true;
  }

  /** Keeps a record to be written with the next append. */
  buffer(record: LogRecord): void {
    this.buffered.push(record);
  }

  /**
   * Appends the buffered records plus `records` as one durable commit. Appends of one saga are
   * chained so their sequence numbers reach the log in order, even from parallel steps.
   */
  write(records: LogRecord[]): Promise<void> {
    const batch = this.buffered.length === 0 ? records : [...this.buffered, ...records];
    this.buffered = [];
    if (batch.length === 0) return this.tail;
    for (const r of batch) {
      if (r.type !== 'status') continue;
      // A bug here would corrupt the saga's history: refuse it before anything is written.
      if (r.status !== this.status && !canTransition(this.status, r.status)) {
        return Promise.reject(new SagaError('LOG_FAILURE', `saga ${this.sagaId}: illegal status change ${this.status} -> ${r.status}`));
      }
      this.status = r.status;
    }
    const firstSeq = this.nextSeq;
    this.nextSeq += batch.length;
    const append = (): Promise<void> => {
      if (this.broken !== undefined) return Promise.reject(this.broken);
      return this.env.log.append({ sagaId: this.sagaId, lease: this.lease, firstSeq, records: batch }).catch((err: unknown) => {
        // After a failed append the log and this run disagree on seq: nothing more may be written.
        this.broken = err;
        this.scope.cancel(err);
        throw err;
      });
    };
    this.tail = this.tail.then(append, append);
    return this.tail;
  }

  setStatus(status: SagaStatus, reason?: ErrorInfo): Promise<void> {
    if (reason) this.reason = reason;
    return this.write([reason ? { type: 'status', status, reason } : { type: 'status', status }]);
  }

  /** What a step (or its compensation) sees; the AbortSignal is made only if the step reads it. */
  contextFor(step: string, attempt: number, scope: CancelScope): StepContext<unknown, Record<string, unknown>> {
    return {
      sagaId: this.sagaId,
      input: this.input,
      results: this.results,
      result: resultReader(this.results),
      attempt,
      idempotencyKey: `${this.sagaId}/${step}`,
      get signal() {
        return scope.signal;
      },
      fencingToken: this.lease.fencingToken,
    };
  }

  resultOf(name: string): Json | undefined {
    return this.results[name] as Json | undefined;
  }
}

export function deadlineReason(at: number): ErrorInfo {
  return { code: 'SAGA_DEADLINE', message: `the saga's deadline (${new Date(at).toISOString()}) passed before its pivot` };
}
