// The saga engine's public face: execute (idempotent start), submit (queue), resume and recover
// (leases), operator retry of stuck sagas, waiting for outcomes, graceful close.
import { systemClock, type Clock } from './clock.js';
import { compensateAll } from './compensate.js';
import type { SagaDefinition } from './define.js';
import { SagaError, isFenced } from './errors.js';
import { newSagaId } from './ids.js';
import { HookBus, type SagaHooks } from './events.js';
import { runStages } from './forward.js';
import { Heartbeat } from './heartbeat.js';
import { type ErrorInfo, type Json, type Lease, type LogRecord, type SagaLog, type SagaStatus, type SagaSummary, type StoredSaga } from './log.js';
import { storedOutcome, type SagaOutcome } from './outcome.js';
import { planResume, replay, type ResumePlan } from './replay.js';
import { SagaRun, type RunEnv } from './run.js';

export interface EngineOptions {
  log: SagaLog;
  /** Unique per process; default `engine-<random>`. */
  owner?: string;
  /** How long a claim on a saga lasts without renewal (default 30 s). */
  leaseMs?: number;
  /** Lease renewal period (default leaseMs / 3); 0 disables the heartbeat. */
  heartbeatMs?: number;
  clock?: Clock;
  hooks?: SagaHooks | SagaHooks[];
}

export interface ExecuteOptions {
  sagaId?: string;
}

export class SagaEngine {
  readonly owner: string;
  readonly leaseMs: number;
  readonly log: SagaLog;
  private readonly env: RunEnv;
  private readonly defs = new Map<string, SagaDefinition>();
  private readonly active = new Map<string, { run: SagaRun; done: Promise<SagaOutcome> }>();
  private readonly heartbeat: Heartbeat;
  private closed = false;

  constructor(opts: EngineOptions) {
    this.log = opts.log;
    this.owner = opts.owner ?? `engine-${globalThis.crypto.randomUUID().slice(0, 8)}`;
    this.leaseMs = opts.leaseMs ?? 30_000;
    const clock = opts.clock ?? systemClock;
    this.env = { log: opts.log, clock, hooks: new HookBus(opts.hooks), leaseMs: this.leaseMs };
    this.heartbeat = new Heartbeat(opts.log, this.owner, this.leaseMs, opts.heartbeatMs ?? Math.floor(this.leaseMs / 3), () =>
      [...this.active.values()].map(({ run }) => run),
    );
  }

  /** Definitions this engine can resume from the log (execute registers its own). */
  register(...defs: SagaDefinition<unknown, unknown>[]): this {
    for (const d of defs) this.defs.set(key(d.name, d.version), d as unknown as SagaDefinition);
    return this;
  }

  addHooks(hooks: SagaHooks): void {
    this.env.hooks.add(hooks);
  }

  get activeCount(): number {
    return this.active.size;
  }

  /** Definitions registered, as `name` list (workers claim only these). */
  get names(): string[] {
    return [...new Set([...this.defs.values()].map((d) => d.name))];
  }

  /**
   * Runs a saga to its end. Starting an id that exists never runs it twice: it returns that
   * saga's outcome, waiting for it if another owner is still running it.
   */
  async execute<I, R>(def: SagaDefinition<I, R>, input: I, opts: ExecuteOptions = {}): Promise<SagaOutcome<R>> {
    this.assertOpen();
    const d = def as unknown as SagaDefinition;
    this.register(def as SagaDefinition<unknown, unknown>);
    const sagaId = opts.sagaId ?? newSagaId();
    const running = this.active.get(sagaId);
    if (running) return this.sameSaga(running.run.def.name, d, sagaId, this.settled(sagaId, running.done)) as Promise<SagaOutcome<R>>;
    // The first stage's write-ahead records ride with the saga's creation: one commit fewer.
    const first: LogRecord[] = (d.stages[0]?.steps ?? []).map((s) => ({ type: 'step_started', step: s.name, attempt: 1 }));
    const begun = await this.log.begin({
      sagaId,
      name: d.name,
      version: d.version,
      input: input as Json,
      status: 'running',
      owner: this.owner,
      leaseMs: this.leaseMs,
      records: first,
    });
    if (!begun.created) return this.existing(begun.existing, d) as Promise<SagaOutcome<R>>;
    const run = new SagaRun(this.env, d, sagaId, input, begun.lease, 'running');
    run.startedWithBegin(first);
    return this.track(run, { action: 'forward', fromStage: 0 }, false) as Promise<SagaOutcome<R>>;
  }

  /** Stores the saga as pending for a worker to claim; returns whether it was new. */
  async submit<I, R>(def: SagaDefinition<I, R>, input: I, opts: ExecuteOptions = {}): Promise<{ sagaId: string; created: boolean }> {
    this.assertOpen();
    const sagaId = opts.sagaId ?? newSagaId();
    const begun = await this.log.begin({
      sagaId,
      name: def.name,
      version: def.version,
      input: input as Json,
      status: 'pending',
      owner: null,
      leaseMs: this.leaseMs,
    });
    if (!begun.created && begun.existing.name !== def.name) throw conflict(sagaId, begun.existing.name, def.name);
    return { sagaId, created: begun.created };
  }

  /**
   * Claims up to `limit` sagas (expired leases; pending ones too with includePending) and starts
   * them in the background. Returns how many were claimed; `idle()` waits for them.
   */
  async recover(opts: { limit?: number; includePending?: boolean } = {}): Promise<number> {
    this.assertOpen();
    const claimed = await this.log.claim({
      owner: this.owner,
      leaseMs: this.leaseMs,
      limit: opts.limit ?? 32,
      includePending: opts.includePending ?? false,
      names: this.names,
    });
    let started = 0;
    for (const { saga, lease } of claimed) {
      const stored = await this.log.load(saga.sagaId);
      if (!stored) continue;
      const run = this.resumable(stored, lease);
      if (!run) continue;
      started++;
      // Nobody waits on a recovered saga here: if its lease is lost, this process just lets go (no
      // polling for the new owner's outcome, which would hold a worker slot for nothing).
      this.track(run.run, run.plan, true, false).catch(() => undefined); // outcome is in the log and hooks
    }
    return started;
  }

  /** Operator action: takes a stuck saga and carries on (forward after the pivot, else compensation). */
  async retryStuck(sagaId: string): Promise<SagaOutcome> {
    this.assertOpen();
    const claimed = await this.log.claimStuck(sagaId, this.owner, this.leaseMs);
    if (!claimed) throw new SagaError('SAGA_NOT_STUCK', `saga ${sagaId} is not stuck (or does not exist)`);
    const stored = await this.log.load(sagaId);
    if (!stored) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
    const r = this.resumable(stored, claimed.lease);
    if (!r) throw new SagaError('SAGA_UNKNOWN_DEFINITION', `no definition registered for ${stored.name} v${stored.version}`);
    return this.track(r.run, r.plan, true);
  }

  /** The saga's outcome once it is completed, compensated or stuck. */
  async waitFor(sagaId: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<SagaOutcome> {
    const local = this.active.get(sagaId);
    if (local) return this.settled(sagaId, local.done, opts);
    return this.pollOutcome(sagaId, opts);
  }

  /** A local run's outcome; if this process lost the saga meanwhile, the new owner's outcome. */
  private settled(sagaId: string, done: Promise<SagaOutcome>, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<SagaOutcome> {
    return done.catch((err: unknown) => (isFenced(err) ? this.pollOutcome(sagaId, opts) : Promise.reject(err)));
  }

  private async pollOutcome(sagaId: string, opts: { timeoutMs?: number; pollMs?: number } = {}): Promise<SagaOutcome> {
    const deadline = this.env.clock.now() + (opts.timeoutMs ?? this.leaseMs * 4);
    for (;;) {
      const outcome = await this.outcomeOf(sagaId);
      if (outcome) return outcome;
      if (this.env.clock.now() > deadline) throw new SagaError('SAGA_WAIT_TIMEOUT', `saga ${sagaId} did not end in time`);
      await this.env.clock.sleep(opts.pollMs ?? 50);
    }
  }

  /** The outcome if the saga has ended (or is stuck); undefined while it runs. */
  async outcomeOf(sagaId: string): Promise<SagaOutcome | undefined> {
    const stored = await this.log.load(sagaId);
    if (!stored) throw new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} not found`);
    return storedOutcome(stored);
  }

  /** Waits until no saga runs in this engine. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active.values()].map((a) => a.done));
  }

  /**
   * Stops: waits up to `graceMs` for running sagas, then stops the rest where they are (no further
   * writes) and releases their leases so another owner resumes them at once.
   */
  async close(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const grace = opts.graceMs ?? 0;
    if (grace > 0 && this.active.size > 0) {
      await Promise.race([this.idle(), this.env.clock.sleep(grace)]);
    }
    const left = [...this.active.values()].map((a) => a.run);
    for (const run of left) run.scope.cancel(new SagaError('STEP_ABORTED', 'engine shutting down'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    this.heartbeat.stop();
    if (left.length > 0) {
      await this.log.release(this.owner, left.map((r) => ({ sagaId: r.sagaId, fencingToken: r.lease.fencingToken }))).catch(() => undefined);
    }
  }

  private resumable(stored: StoredSaga, lease: Lease): { run: SagaRun; plan: ResumePlan } | undefined {
    const def = this.defs.get(key(stored.name, stored.version));
    if (!def) return undefined;
    const replayed = replay(stored.records, stored.status);
    const plan = planResume(def, replayed);
    return { run: new SagaRun(this.env, def, stored.sagaId, stored.input, lease, stored.status, replayed), plan };
  }

  private track(run: SagaRun, plan: ResumePlan, resumed: boolean, awaitIfFenced = true): Promise<SagaOutcome> {
    const done = this.drive(run, plan, resumed, awaitIfFenced).finally(() => {
      this.active.delete(run.sagaId);
      this.heartbeat.changed(this.active.size);
    });
    this.active.set(run.sagaId, { run, done });
    this.heartbeat.changed(this.active.size);
    return done;
  }

  private async drive(run: SagaRun, plan: ResumePlan, resumed: boolean, awaitIfFenced: boolean): Promise<SagaOutcome> {
    const hooks = this.env.hooks;
    const base = { sagaId: run.sagaId, saga: run.def.name };
    if (!hooks.empty) hooks.emit('onSagaStart', { ...base, resumed });
    let status: SagaOutcome['status'];
    try {
      status = await this.follow(run, plan);
    } catch (err) {
      if (isFenced(err) || isFenced(run.scope.reason)) {
        if (!hooks.empty) hooks.emit('onFenced', base);
        // Another owner has the saga now; its outcome will be in the log.
        if (!awaitIfFenced) throw new SagaError('SAGA_FENCED', `saga ${run.sagaId}: taken over by another owner`);
        return this.pollOutcome(run.sagaId);
      }
      throw err;
    }
    if (!hooks.empty) {
      const end = { ...base, status: status as SagaStatus, durationMs: this.env.clock.now() - run.startedAt };
      hooks.emit('onSagaEnd', run.reason && status !== 'completed' ? { ...end, reason: run.reason } : end);
    }
    const outcome: SagaOutcome = { sagaId: run.sagaId, saga: run.def.name, status, results: { ...run.results }, executed: true };
    if (status !== 'completed' && run.reason) outcome.reason = run.reason;
    return outcome;
  }

  private async follow(run: SagaRun, plan: ResumePlan): Promise<SagaOutcome['status']> {
    switch (plan.action) {
      case 'done':
        return run.status === 'completed' ? 'completed' : 'compensated';
      case 'complete':
        await run.setStatus('completed');
        return 'completed';
      case 'compensate':
        return this.rollBack(run, plan.reason);
      case 'forward': {
        if (run.status !== 'running') run.buffer({ type: 'status', status: 'running' });
        const result = await runStages(run, plan.fromStage);
        stopIfAborted(run);
        if (result.ok) {
          await run.setStatus('completed');
          return 'completed';
        }
        if (this.pivotPassed(run)) {
          await run.setStatus('stuck', result.error);
          return 'stuck';
        }
        return this.rollBack(run, result.error);
      }
    }
  }

  private async rollBack(run: SagaRun, reason: ErrorInfo): Promise<'compensated' | 'stuck'> {
    const status = await compensateAll(run, reason);
    stopIfAborted(run);
    return status;
  }

  private pivotPassed(run: SagaRun): boolean {
    const stage = run.def.stages[run.def.pivotStage];
    const pivot = stage?.steps[0];
    return pivot !== undefined && run.steps.get(pivot.name)?.outcome === 'succeeded';
  }

  private async existing(existing: SagaSummary, def: SagaDefinition): Promise<SagaOutcome> {
    if (existing.name !== def.name) throw conflict(existing.sagaId, existing.name, def.name);
    const local = this.active.get(existing.sagaId);
    if (local) return { ...(await this.settled(existing.sagaId, local.done)), executed: false };
    return { ...(await this.waitFor(existing.sagaId)), executed: false };
  }

  private async sameSaga(runningName: string, def: SagaDefinition, sagaId: string, done: Promise<SagaOutcome>): Promise<SagaOutcome> {
    if (runningName !== def.name) throw conflict(sagaId, runningName, def.name);
    return { ...(await done), executed: false };
  }

  private assertOpen(): void {
    if (this.closed) throw new SagaError('LOG_CLOSED', 'the engine is closed');
  }
}

function key(name: string, version: number): string {
  return `${name}@${version}`;
}

function conflict(sagaId: string, existing: string, wanted: string): SagaError {
  return new SagaError('SAGA_CONFLICT', `saga id ${sagaId} belongs to saga "${existing}", not "${wanted}"`);
}

/** A run whose lease was lost or whose engine is closing writes nothing more. */
function stopIfAborted(run: SagaRun): void {
  if (run.scope.cancelled) throw run.scope.reason;
}
