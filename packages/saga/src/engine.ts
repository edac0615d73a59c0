// The saga engine's public face: execute (idempotent start), submit (queue), recover (claims),
// settle (an existing saga's outcome, driving it if nobody else can), cancel, operator retry of
// stuck sagas, graceful close. Running one saga is drive.ts; waiting and taking over is here.
import { systemClock, type Clock } from './clock.js';
import type { SagaDefinition } from './define.js';
import { drive, type DriveResult } from './drive.js';
import { SagaError, isFenced } from './errors.js';
import { HookBus, type ClaimVia, type SagaHooks } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { newSagaId } from './ids.js';
import type { Claimed, Json, Lease, LogRecord, SagaLog, SagaMeta, StoredSaga } from './log.js';
import type { SagaOutcome } from './outcome.js';
import { nodeRuntime, type EngineRuntime } from './owner.js';
import { DeadOwnerScan } from './dead-owners.js';
import { planResume, replay, type ResumePlan } from './replay.js';
import { SagaRun, type RunEnv } from './run.js';
import { cancelSaga, retryStuckSaga, type EngineOps } from './engine-ops.js';
import { sagaHandle, type SagaHandle } from './handle.js';
import { checkInput, conflict } from './start-checks.js';

export interface EngineOptions<L extends SagaLog = SagaLog> {
  /** The log; the engine keeps its type, so `engine.log` offers a backend's operator queries too. */
  log: L;
  /** Unique per process; default `runtime.ownerId()`: `<host>:<pid>:<process start>:<random>` (see owner.ts). */
  owner?: string;
  /** The owner id and the dead-owner check of the process (default: nodeRuntime, which reads /proc). */
  runtime?: EngineRuntime;
  /** How long a claim on a saga lasts without renewal (default 30 s). */
  leaseMs?: number;
  /** Lease renewal period (default leaseMs / 3); 0 disables the heartbeat. */
  heartbeatMs?: number;
  /** A step whose attempt was interrupted more than this many times ends stuck RECOVERY_LIMIT (default 10). */
  recoveryLimit?: number;
  /** Retry backoffs longer than this become durable timers (default 2 s). */
  durableTimerThresholdMs?: number;
  clock?: Clock;
  hooks?: SagaHooks | SagaHooks[];
}

export interface ExecuteOptions {
  sagaId?: string;
  /** Stored with the saga (e.g. a W3C traceparent); returned in StoredSaga.meta and in hook events. */
  meta?: SagaMeta;
  /** Past this (epoch ms, engine clock) a saga that has not reached its pivot compensates. */
  deadline?: number;
  /** The saga's subject, stored and indexed by the log (operators list a subject's sagas by it). */
  key?: string;
}

interface Active {
  run: SagaRun;
  done: Promise<DriveResult>;
}

export class SagaEngine<L extends SagaLog = SagaLog> {
  readonly owner: string;
  readonly leaseMs: number;
  readonly log: L;
  readonly recoveryLimit: number;
  private readonly env: RunEnv;
  private readonly defs = new Map<string, SagaDefinition>();
  private readonly active = new Map<string, Active>();
  private readonly heartbeat: Heartbeat;
  private closed = false;
  private readonly dead: DeadOwnerScan;
  /** What cancel, retryStuck and settle (engine-ops.ts) may use of this engine. */
  private readonly ops: EngineOps;

  constructor(opts: EngineOptions<L>) {
    const runtime = opts.runtime ?? nodeRuntime;
    this.log = opts.log;
    this.owner = opts.owner ?? runtime.ownerId();
    this.leaseMs = opts.leaseMs ?? 30_000;
    this.recoveryLimit = opts.recoveryLimit ?? 10;
    const clock = opts.clock ?? systemClock;
    const hooks = new HookBus(opts.hooks);
    this.env = { log: opts.log, clock, hooks, leaseMs: this.leaseMs, durableTimerThresholdMs: opts.durableTimerThresholdMs ?? 2_000 };
    this.ops = {
      log: opts.log,
      owner: this.owner,
      leaseMs: this.leaseMs,
      clock,
      active: (id) => this.active.get(id)?.run,
      definition: (name, version) => this.defs.get(key(name, version)),
      resumable: (stored, claimed, via, takeover) => this.resumable(stored, claimed, via, takeover),
      run: (run, plan) => this.track(run, plan, true),
      awaitRun: (run, done) => this.awaitRun(run, done),
      settle: (id) => this.settle(id),
      activeDone: (id) => this.active.get(id)?.done,
      isClosed: () => this.closed,
      isDeadOwner: (owner) => runtime.isDeadOwner(owner),
    };
    const period = opts.heartbeatMs ?? Math.floor(this.leaseMs / 3);
    this.dead = new DeadOwnerScan(opts.log, this.owner, clock, (owner) => runtime.isDeadOwner(owner));
    this.heartbeat = new Heartbeat(
      opts.log,
      this.owner,
      this.leaseMs,
      period,
      () => [...this.active.values()].map((a) => a.run),
      clock,
      hooks,
    );
  }

  /** Definitions this engine can run and resume; several versions of one name may be registered. */
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

  /** Names registered (any version). */
  get names(): string[] {
    return [...new Set([...this.defs.values()].map((d) => d.name))];
  }

  /** Every registered step (any version) and whether it can be compensated: observers give each a series. */
  get steps(): Array<{ saga: string; step: string; compensatable: boolean }> {
    const out = new Map<string, { saga: string; step: string; compensatable: boolean }>();
    for (const d of this.defs.values())
      for (const st of d.stages)
        for (const step of st.steps)
          out.set(`${d.name}\u0000${step.name}`, { saga: d.name, step: step.name, compensatable: step.compensate !== undefined });
    return [...out.values()];
  }

  /** The (name, version) pairs registered: the only sagas this engine claims. */
  get definitions(): Array<{ name: string; version: number }> {
    return [...this.defs.values()].map((d) => ({ name: d.name, version: d.version }));
  }

  definition(name: string, version: number): SagaDefinition | undefined {
    return this.defs.get(key(name, version));
  }

  isRegistered(name: string, version: number): boolean {
    return this.defs.has(key(name, version));
  }

  /**
   * Runs a saga to its end. Starting an id that exists never runs it twice: with the same input it
   * returns that saga's outcome (settle: waiting, or taking it over if its owner is dead); with a
   * different input it fails with SAGA_INPUT_CONFLICT.
   */
  async execute<I, R>(def: SagaDefinition<I, R>, input: I, opts: ExecuteOptions = {}): Promise<SagaOutcome<R>> {
    this.assertOpen();
    const d = def as unknown as SagaDefinition;
    this.register(def as SagaDefinition<unknown, unknown>);
    const sagaId = opts.sagaId ?? newSagaId(this.env.clock.now());
    const local = this.active.get(sagaId);
    if (local) {
      if (local.run.def.name !== d.name) throw conflict(sagaId, local.run.def.name, d.name);
      checkInput(sagaId, local.run.input, input);
      return { ...(await this.settle(sagaId)), executed: false } as SagaOutcome<R>;
    }
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
      ...(opts.meta ? { meta: opts.meta } : {}),
      ...(opts.deadline !== undefined ? { deadlineAt: opts.deadline } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
    });
    if (!begun.created) {
      if (begun.existing.name !== d.name) throw conflict(sagaId, begun.existing.name, d.name);
      const stored = await this.log.load(sagaId);
      if (stored) checkInput(sagaId, stored.input, input);
      return { ...(await this.settle(sagaId)), executed: false } as SagaOutcome<R>;
    }
    const run = new SagaRun(this.env, d, sagaId, input, begun.lease, 'running', undefined, { meta: opts.meta, deadlineAt: opts.deadline });
    run.startedWithBegin(first);
    return this.awaitRun(run, this.track(run, { action: 'forward', fromStage: 0 }, false)) as Promise<SagaOutcome<R>>;
  }

  /** Stores the saga as pending for a worker to claim; returns whether it was new. */
  async submit<I, R>(def: SagaDefinition<I, R>, input: I, opts: ExecuteOptions = {}): Promise<{ sagaId: string; created: boolean }> {
    this.assertOpen();
    const sagaId = opts.sagaId ?? newSagaId(this.env.clock.now());
    const begun = await this.log.begin({
      sagaId,
      name: def.name,
      version: def.version,
      input: input as Json,
      status: 'pending',
      owner: null,
      leaseMs: this.leaseMs,
      ...(opts.meta ? { meta: opts.meta } : {}),
      ...(opts.deadline !== undefined ? { deadlineAt: opts.deadline } : {}),
      ...(opts.key !== undefined ? { key: opts.key } : {}),
    });
    if (!begun.created) {
      if (begun.existing.name !== def.name) throw conflict(sagaId, begun.existing.name, def.name);
      const stored = await this.log.load(sagaId);
      if (stored) checkInput(sagaId, stored.input, input);
    }
    return { sagaId, created: begun.created };
  }

  /**
   * Claims up to `limit` sagas of the registered (name, version) pairs: expired leases, owners on
   * this host whose process is gone, and pending ones with includePending. Starts them in the
   * background and returns how many; `idle()` waits for them.
   */
  async recover(opts: { limit?: number; includePending?: boolean } = {}): Promise<number> {
    this.assertOpen();
    const dead = await this.dead.owners();
    const claimed = await this.log.claim({
      owner: this.owner,
      leaseMs: this.leaseMs,
      limit: opts.limit ?? 32,
      includePending: opts.includePending ?? false,
      definitions: this.definitions,
      ...(dead.length > 0 ? { deadOwners: dead } : {}),
    });
    let started = 0;
    // One round trip for the whole batch where the log offers it (a worker claims several at once).
    const preloaded = new Map<string, StoredSaga>();
    if (this.log.loadMany && claimed.length > 1) {
      for (const s of await this.log.loadMany(claimed.map((c) => c.saga.sagaId))) preloaded.set(s.sagaId, s);
    }
    for (const c of claimed) {
      const stored = preloaded.get(c.saga.sagaId) ?? (await this.log.load(c.saga.sagaId));
      if (!stored) continue;
      const r = await this.resumable(stored, c, 'recover', dead.includes(c.previousOwner ?? '') ? 'owner_dead' : 'lease_expired');
      if (!r) continue;
      started++;
      // Nobody waits on a recovered saga here: if its lease is lost, this process just lets go.
      this.track(r.run, r.plan, true).catch(() => undefined); // the outcome is in the log and the hooks
    }
    return started;
  }

  /**
   * A handle on an existing saga (see handle.ts): `outcome()` now, `result()` waits without taking
   * it over, `settle()` waits and drives it if nobody else can. The methods below are shorthands.
   */
  watch(sagaId: string): SagaHandle {
    return sagaHandle(this.ops, sagaId);
  }

  /**
   * `watch(id).settle()`: the outcome of an existing saga, driving it if nobody else can: final or
   * stuck -> at once; running here -> waits; owned by a live owner elsewhere -> waits
   * (notifications or polling) and takes it over if that lease expires; owner dead -> claims it
   * now and runs it here.
   */
  settle(sagaId: string, opts: { timeoutMs?: number } = {}): Promise<SagaOutcome> {
    return this.watch(sagaId).settle(opts);
  }

  /** `settle` with a default timeout of four leases. */
  waitFor(sagaId: string, opts: { timeoutMs?: number } = {}): Promise<SagaOutcome> {
    return this.settle(sagaId, { timeoutMs: opts.timeoutMs ?? this.leaseMs * 4 });
  }

  /**
   * Cancels a saga: before its pivot it compensates (reason SAGA_CANCELLED), wherever it runs (a
   * live owner elsewhere is fenced). Once the pivot has started: SAGA_NOT_CANCELLABLE. `by` (default:
   * this engine's owner) is recorded with the time and reason; a saga that had already failed keeps
   * its failure as its reason.
   */
  cancel(sagaId: string, reason = 'cancelled by request', opts: { by?: string } = {}): Promise<SagaOutcome> {
    this.assertOpen();
    return cancelSaga(this.ops, sagaId, reason, opts.by ?? this.owner);
  }

  /** Operator action: takes a stuck saga and carries on (forward, or compensation if it was rolling back). */
  retryStuck(sagaId: string): Promise<SagaOutcome> {
    this.assertOpen();
    return retryStuckSaga(this.ops, sagaId);
  }

  /** `watch(id).outcome()`: the outcome if the saga has ended (or is stuck); undefined while it runs. */
  outcomeOf(sagaId: string): Promise<SagaOutcome | undefined> {
    return this.watch(sagaId).outcome();
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
    if (grace > 0 && this.active.size > 0) await Promise.race([this.idle(), this.env.clock.sleep(grace)]);
    const left = [...this.active.values()].map((a) => a.run);
    for (const run of left) run.scope.cancel(new SagaError('STEP_ABORTED', 'engine shutting down'));
    await Promise.allSettled([...this.active.values()].map((a) => a.done));
    this.heartbeat.stop();
    if (left.length > 0) {
      await this.log
        .release(
          this.owner,
          left.map((r) => ({ sagaId: r.sagaId, fencingToken: r.lease.fencingToken })),
        )
        .catch(() => undefined);
    }
  }

  /**
   * A run for a claimed saga; undefined (and the claim given back) when its definition is not
   * registered here. Emits onClaim and, when the saga was taken from another owner, onTakeover.
   */
  private async resumable(
    stored: StoredSaga,
    claimed: Claimed,
    via: ClaimVia,
    takeover?: 'lease_expired' | 'owner_dead' | 'cancel',
  ): Promise<{ run: SagaRun; plan: ResumePlan } | undefined> {
    const lease: Lease = claimed.lease;
    const def = this.defs.get(key(stored.name, stored.version));
    if (!def) {
      await this.log.release(this.owner, [{ sagaId: stored.sagaId, fencingToken: lease.fencingToken }]).catch(() => undefined);
      return undefined;
    }
    const hooks = this.env.hooks;
    const base = { sagaId: stored.sagaId, saga: stored.name, version: stored.version, fencingToken: lease.fencingToken };
    if (!hooks.empty) {
      hooks.emit('onClaim', { ...base, via, previousOwner: claimed.previousOwner });
      const prev = claimed.previousOwner;
      if (takeover && prev !== null && prev !== this.owner && stored.status !== 'pending' && stored.status !== 'stuck') {
        hooks.emit('onTakeover', { ...base, previousOwner: prev, reason: takeover });
      }
    }
    const replayed = replay(stored.records, stored.status);
    const extras = { meta: stored.meta ?? undefined, deadlineAt: stored.deadlineAt ?? undefined };
    const run = new SagaRun(this.env, def, stored.sagaId, stored.input, lease, stored.status, replayed, extras);
    let plan = planResume(def, replayed);
    if (replayed.maxInterrupted > this.recoveryLimit && plan.action !== 'done' && plan.action !== 'complete') {
      const message = `an attempt was interrupted ${replayed.maxInterrupted} times (limit ${this.recoveryLimit}): a step that kills its process?`;
      plan = { action: 'stuck', reason: { code: 'RECOVERY_LIMIT', message } };
    }
    return { run, plan };
  }

  private track(run: SagaRun, plan: ResumePlan, resumed: boolean): Promise<DriveResult> {
    const done = drive(run, plan, resumed, () => this.closed).finally(() => {
      if (this.active.get(run.sagaId)?.run === run) this.active.delete(run.sagaId);
      this.heartbeat.changed(this.active.size);
    });
    this.active.set(run.sagaId, { run, done });
    this.heartbeat.changed(this.active.size);
    return done;
  }

  /** A caller's view of a run: its outcome; if it was suspended or lost to another owner, settle. */
  private async awaitRun(run: SagaRun, done: Promise<DriveResult>): Promise<SagaOutcome> {
    let out: DriveResult;
    try {
      out = await done;
    } catch (err) {
      // Fenced: another owner has it, its outcome is the answer. Lease lost (the log unreachable):
      // the caller learns it; the saga resumes wherever a claim succeeds next.
      if (!isFenced(err)) throw err;
      return { ...(await this.settle(run.sagaId)), executed: false };
    }
    return out ?? this.settle(run.sagaId);
  }

  private assertOpen(): void {
    if (this.closed) throw new SagaError('LOG_CLOSED', 'the engine is closed');
  }
}

function key(name: string, version: number): string {
  return `${name}@${version}`;
}
