// The deterministic simulation's world: a virtual clock, the memory saga log, the model stores
// (sim-stores.ts) and "processes" (an engine + a MemoryWriter each) whose every store call and log
// call is a point where, seeded, the process may crash (it and everything it awaits stop forever)
// or a store call may fail transiently (before it applies, or after: "maybe applied"). Store calls
// take a seeded virtual latency, which is what interleaves the processes; time only moves when
// nothing else can run, so a seed replays bit for bit (the trace hash says so).
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, seededRandom, type Clock, type SagaDefinition, type SagaLogBackend } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { StoreError } from '../../src/stores/errors.js';
import { BatchStats, coalesceStores } from '../../src/stores/coalesce/stores.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { EffectLog } from './sim-effects.js';
import { MEMBER_CALL, withBatchForms } from './sim-batch.js';
import { SimCache, simStores } from './sim-stores.js';
import { allSagas } from './log-pages.js';
import { SimIndex, finalPass, reindexDefinition, reindexOne, type SimReindexPhase } from './sim-reindex.js';
import { operate, type OperatorFigures } from './sim-reindex-ops.js';
import type { VectorTargets } from '../../src/ingest/reindex/targets.js';
import type { ReindexSummary } from '../../src/ingest/reindex/run.js';
import type { ReindexInput } from '../../src/ingest/sagas/reindex-saga.js';

const never = new Promise<never>(() => undefined);
/**
 * The forward writes before the pivot, which a permanent refusal may hit. Not the pivot itself: a
 * pivot is atomic, and its repeat after it applied (a crash before its success was logged) must
 * succeed; a refusal there would make the engine compensate a saga whose pivot applied.
 */
const REFUSABLE = new Set([
  'postgres.putPending',
  'neo4j.writeVersion',
  'qdrant.writeVersion',
  'postgres.markDeleting',
  'redis.remove',
  'neo4j.removeDocument',
  'qdrant.removeDocument',
  // The same writes as batched calls (coalesced worlds): the coalescer splits a batch refused as a
  // whole and sends each member alone, so the refusal ends up failing one member's step.
  'postgres.putPendingBatch',
  'neo4j.writeVersionBatch',
  'qdrant.writeVersionBatch',
  'redis.removeBatch',
]);
const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Virtual time: sleeps wait in a queue; the world pops the earliest when everything else waits. */
export class VirtualClock implements Clock {
  private t = 1_000_000;
  private seq = 0;
  private readonly timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  constructor(readonly random: () => number) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        reject(signal?.reason);
      };
      const timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
    });
  }
  /** How many sleeps are waiting. */
  get waiting(): number {
    return this.timers.length;
  }
  /** Fires every timer due at the earliest time; false when none is left. */
  advance(): boolean {
    if (this.timers.length === 0) return false;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const at = this.timers[0]?.at ?? this.t;
    this.t = Math.max(this.t, at);
    while (this.timers.length > 0 && (this.timers[0]?.at ?? Infinity) <= at) this.timers.shift()?.fire();
    return true;
  }
}

export interface WorldOptions {
  seed: number;
  docs: number;
  processes: number;
  lanes: number;
  sagas: number;
  leaseMs: number;
  /** Per call: probability that the calling process crashes there. */
  crashRate: number;
  /** Per store call: probability of a transient failure (half before, half after the call). */
  faultRate: number;
  /** Per saga write: probability of a permanent refusal (nothing applied): before its pivot the
   * saga compensates, which is what the compensation check needs. Default 0. */
  permanentRate?: number;
  /**
   * The real store group commit (src/stores/coalesce/) in every process, between its sagas and
   * the model stores (sim-batch.ts gives them batched forms): a process's concurrent sagas share
   * batched calls. Crash and fault points are then both per member (above the coalescer, where
   * the fault wrapper and the metrics sit in the product) and per batch (below it), including a
   * crash right after a batch applied, before any member's outcome reached its saga or the log.
   */
  coalesce?: boolean;
  /**
   * Per call: probability that the process stalls (a GC pause, a lost network) for two lease
   * lengths: its leases expire, a new process recovers its sagas at once, and the store calls the
   * old owner has in flight land late, as a stale owner's writes (with `coalesce`, as members of
   * its batches, beside its other sagas' members).
   * Default 0.
   */
  stallRate?: number;
  /**
   * A reindex (sim-reindex.ts): the index record says `migrating` or `switched`, or `starting`
   * (steady until 90% of the sagas started, then the migration starts while the writers keep the
   * steady record cached), or `switching`/`rollback` (the operator switches, and rolls back,
   * mid-world: sim-reindex-ops.ts); `rechunk-*` with a target of another chunking (and texts of
   * several paragraphs); the writes dual-write, the
   * documents start committed (in the old target only unless switched: written before the
   * migration began), and a third of the lanes' sagas are reindex sagas (the real one, as the
   * reindex loop starts it). Not with `coalesce`.
   */
  reindex?: SimReindexPhase;
  /** Finishing worlds: the long-lived process keeps the record it read first for good (a write
   * landing long after its record read); the end re-runs --finish, which must remove what those
   * writes brought back. Also SIM_FINISH_STALE=1. */
  finishStale?: boolean;
}

/** A simulated process (spawn). */
export interface SimProcess {
  engine: SagaEngine;
  writer: MemoryWriter;
  alive: () => boolean;
  /** Its store views (crash and fault points) and, in reindex worlds, its targets and reindex saga. */
  stores: StoreSet;
  targets?: VectorTargets;
  reindexDef?: SagaDefinition<ReindexInput, Record<string, unknown>>;
  /** One reindex saga on a document, as the reindex loop runs it (sim-reindex.ts reindexOne). */
  reindex?: (docId: string, sagaId: string) => Promise<unknown>;
}

/** What the coalesced worlds did with batches (the figures show the batched path ran). */
export interface BatchFigures {
  /** Batched calls sent, and the saga writes that went in a batch of 2 or more members. */
  batches: number;
  sharedMembers: number;
  /** The largest batch. */
  maxBatch: number;
  /** Members of shared batches sent by an owner that had lost its saga (a newer token existed). */
  staleMembers: number;
  /** Of those, the ones a fenced store refused (nothing changed). */
  staleRefused: number;
  /** Crashes right after a batch applied, before its members' outcomes were delivered. */
  crashesAfterApply: number;
  /** Stalls (stallRate): an owner's leases expired while it went on. */
  stalls: number;
}

export interface WorldResult {
  sagasStarted: number;
  crashes: number;
  faults: number;
  permanentFaults: number;
  hash: string;
  virtualMs: number;
  stores: StoreSet;
  log: SagaLogBackend;
  effects: EffectLog;
  batches: BatchFigures;
}

export class World {
  readonly clock: VirtualClock;
  readonly log: MemorySagaLog;
  readonly stores: StoreSet;
  /** Every saga write with whether it changed a store (sim-effects.ts: compensation exactly once). */
  readonly effects = new EffectLog();
  private readonly random: () => number;
  private hash = 0x811c9dc5;
  /** With SIM_TRACE set: every noted event, to find where two runs of one seed part. */
  readonly trace: string[] = [];
  crashes = 0;
  faults = 0;
  permanentFaults = 0;
  started = 0;
  private procNo = 0;
  private readonly embedder = new HashingEmbedder();
  /** A reindex in progress (opts.reindex): the record, the other target. */
  readonly index: SimIndex | undefined;
  private migrationStarted = false;
  /** The collection the world's vector store is bound to (the active one when the world began). */
  private readonly boundTo: string | undefined;
  /** `switching`/`rollback`: the operator's gate before the writers' next sagas (sim-reindex-ops.ts). */
  private gateClosed = false;
  private lanesAtGate = 0;
  private lanesDone = 0;
  private operatorSagas = 0;
  operator: OperatorFigures | undefined;
  readonly batchStats = new BatchStats();
  crashesAfterApply = 0;
  stalls = 0;
  /** The newest fencing token of each saga (begin and claims): tells a lost owner's writes. */
  private readonly tokens = new Map<string, number>();

  constructor(readonly opts: WorldOptions) {
    this.random = seededRandom(opts.seed);
    this.clock = new VirtualClock(seededRandom(opts.seed ^ 0x5bd1e995));
    this.log = new MemorySagaLog({ now: () => this.clock.now() });
    const models = simStores(() => this.clock.now(), this.embedder.dimension);
    if (opts.reindex && opts.coalesce) throw new Error('a reindex world is not coalesced (not modelled)');
    this.index = opts.reindex ? new SimIndex(opts.reindex, this.embedder.dimension) : undefined;
    if (this.index?.rechunk && models.redis instanceof SimCache) models.redis.countInDigest = false; // see SimCache
    this.stores = this.effects.wrap(
      opts.coalesce ? withBatchForms(models) : (this.index?.bindActive(models) ?? models),
      this.index?.active.collection,
    );
    this.boundTo = this.index?.active.collection;
    this.effects.isStale = (sagaId, token) => token < (this.tokens.get(sagaId) ?? 0);
  }

  /** A stall: the owner's leases run out now, and a new process takes its sagas over. */
  private async expire(owner: string): Promise<void> {
    for (const s of await allSagas(this.log)) {
      if (s.owner === owner && (s.status === 'running' || s.status === 'compensating'))
        await this.log.release(owner, [{ sagaId: s.sagaId, fencingToken: s.fencingToken }]);
    }
    const q = this.spawn();
    void q.engine.recover({ limit: 16 }).catch(() => 0);
  }

  private noteTokens(method: string, args: unknown[], out: unknown): void {
    const set = (id: string, token: number): void => {
      this.tokens.set(id, Math.max(token, this.tokens.get(id) ?? 0));
    };
    if (method === 'begin' && (out as { created?: boolean } | undefined)?.created) set((args[0] as { sagaId: string }).sagaId, 1);
    if (method === 'claim' && Array.isArray(out))
      for (const c of out as Array<{ saga: { sagaId: string }; lease: { fencingToken: number } }>) set(c.saga.sagaId, c.lease.fencingToken);
    if ((method === 'claimSaga' || method === 'claimStuck') && out) {
      const c = out as { saga: { sagaId: string }; lease: { fencingToken: number } };
      set(c.saga.sagaId, c.lease.fencingToken);
    }
  }

  /** FNV-1a over everything that happens: equal hashes mean the same run. */
  private note(s: string): void {
    if (process.env.SIM_TRACE) this.trace.push(s);
    for (let i = 0; i < s.length; i++) this.hash = Math.imul(this.hash ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }

  /** A process: its own engine and writer over views of the stores and the log that can die. */
  spawn(faulty = true, opts: { dualWrites?: boolean; cacheMs?: number } = {}): SimProcess {
    const id = `p${this.procNo++}`;
    let dead = false;
    /** A stalled process's store calls apply only after this (virtual) time: they land late. */
    let pausedUntil = 0;
    const point = (what: string): boolean => {
      if (dead) return false;
      if (faulty && this.random() < this.opts.crashRate) {
        dead = true;
        this.crashes++;
        this.note(`${this.clock.now()} ${id} crash ${what};`);
        return false;
      }
      if (faulty && (this.opts.stallRate ?? 0) > 0 && this.random() < (this.opts.stallRate ?? 0)) {
        this.stalls++;
        this.note(`${this.clock.now()} ${id} stalls ${what};`);
        pausedUntil = this.clock.now() + 2 * this.opts.leaseMs;
        void this.expire(`sim:${id}`);
      }
      return true;
    };
    // latency: false for the member calls above a coalescer (the batch below takes the latency),
    // so that sagas woken by one batch's outcomes send their next calls together.
    const storeView = <T extends object>(name: StoreName, target: T, latency = true): T =>
      new Proxy(target, {
        get: (t, prop, recv) => {
          const v: unknown = Reflect.get(t, prop, recv);
          if (typeof v !== 'function' || typeof prop !== 'string') return v;
          // Another collection of the vector store (a reindex's other target): the same points.
          if (prop === 'withCollection')
            return (n: string, d: number): unknown => storeView(name, (v as (n: string, d: number) => object).call(t, n, d), latency);
          return async (...args: unknown[]): Promise<unknown> => {
            const what = `${name}.${prop}`;
            const batched = MEMBER_CALL[prop] !== undefined;
            if (!point(what)) return never;
            if (latency) await this.clock.sleep(Math.floor(this.random() * 4));
            if (latency && pausedUntil > this.clock.now()) await this.clock.sleep(pausedUntil - this.clock.now());
            if (dead) return never;
            // Faults hit the saga's writes (those carry a WriteContext). The reads before a saga
            // starts ride out failures on wall-clock timers (src/ingest/ride-out.ts), which would
            // make the run depend on real time: they may crash the process, not fail.
            const last = args[args.length - 1] as { sagaId?: unknown } | undefined;
            const fenced = batched || (typeof last === 'object' && last !== null && typeof last.sagaId === 'string');
            const fault = faulty && fenced && this.random() < this.opts.faultRate ? (this.random() < 0.5 ? 'before' : 'after') : undefined;
            // A permanent refusal (a constraint, a bad request) applies nothing: the saga compensates.
            const permanent =
              fault === undefined &&
              faulty &&
              fenced &&
              REFUSABLE.has(what) &&
              (this.opts.permanentRate ?? 0) > 0 &&
              this.random() < (this.opts.permanentRate ?? 0);
            if (permanent) return this.fail(id, what, 'before', name, 'STORE_PERMANENT');
            if (fault === 'before') return this.fail(id, what, fault, name);
            let out: unknown;
            try {
              out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
            } catch (err) {
              this.note(`${this.clock.now()} ${id} ${what} ! ${(err as { code?: string }).code ?? '?'};`);
              throw err;
            }
            if (dead) return never;
            // The batch applied; its members' outcomes are not yet back in their sagas (nor logged).
            // Below a coalescer a batch of one goes through the per-document call (coalescer.ts
            // sendOne): the same point, so a fenced write there counts as a batch of one.
            const belowCoalescer = this.opts.coalesce === true && latency && fenced;
            if ((batched || belowCoalescer) && !point(`${what} applied`)) {
              this.crashesAfterApply++;
              return never;
            }
            if (fault === 'after') return this.fail(id, what, fault, name);
            this.note(`${this.clock.now()} ${id} ${what};`);
            return out;
          };
        },
      });
    const logView = new Proxy(this.log, {
      get: (t, prop, recv) => {
        // The memory log's change notification waits on a real timer: hidden, so the engine polls
        // on the virtual clock instead (a real timer would make the run depend on wall time).
        if (prop === 'waitForChange') return undefined;
        const v: unknown = Reflect.get(t, prop, recv);
        if (typeof v !== 'function' || typeof prop !== 'string') return v;
        return (...args: unknown[]): unknown => {
          if (!point(`log.${prop}`)) return never;
          const out = (v as (...a: unknown[]) => unknown).apply(t, args);
          if (out instanceof Promise) return out.then((r: unknown) => (this.noteTokens(prop, args, r), r));
          this.noteTokens(prop, args, out);
          return out;
        };
      },
    });
    const view = (s: StoreSet, latency = true): StoreSet => ({
      postgres: storeView('postgres', s.postgres, latency),
      neo4j: storeView('neo4j', s.neo4j, latency),
      qdrant: storeView('qdrant', s.qdrant, latency),
      redis: storeView('redis', s.redis, latency),
    });
    // Coalesced: member calls (crash and fault points, as the fault wrapper above the coalescer in
    // the product) -> this process's coalescers -> batched calls (crash and fault points too).
    // A reindex world: bound to the collection active now, as a process started now opens it.
    const own = this.index && this.boundTo ? this.index.bindActive(this.stores, this.boundTo) : this.stores;
    const stores = this.opts.coalesce ? view(coalesceStores(view(this.stores), {}, this.batchStats), false) : view(own);
    // No heartbeat (it runs on real timers): an owner whose step waits past its lease (a document
    // held by a chain of other sagas) is taken over every lease, and each takeover counts as an
    // interrupted attempt. In production the heartbeat renews the lease instead. So the recovery
    // limit is set out of reach here (its own tests: unit/saga-settle-cancel.test.ts and
    // crash/sqlite-crash.test.ts). SIM_SEED=523762010 left a saga stuck RECOVERY_LIMIT after 11
    // such takeovers in 11 leases.
    const engine = new SagaEngine({
      log: logView,
      owner: `sim:${id}`,
      leaseMs: this.opts.leaseMs,
      heartbeatMs: 0,
      recoveryLimit: 1_000,
      clock: this.clock,
    });
    const index = this.index;
    const targets = index && opts.dualWrites !== false ? index.targets(stores, () => this.clock.now(), opts.cacheMs) : undefined;
    const embedder = index?.embedder() ?? this.embedder;
    const writer = new MemoryWriter({ stores, engine, embedder, stepTimeoutMs: 3_600_000, ...(targets ? { targets } : {}) });
    const proc: SimProcess = { engine, writer, alive: () => !dead, stores };
    if (index) {
      // Its own view of the record, as the reindex command is a process of its own: the reindex
      // saga reads the record fresh, which must not refresh the writer's cached one.
      const t = index.targets(stores, () => this.clock.now(), opts.cacheMs);
      const def = reindexDefinition(stores, t);
      engine.register(def);
      Object.assign(proc, {
        targets: t,
        reindexDef: def,
        reindex: (docId: string, sagaId: string) => reindexOne(stores, engine, def, docId, sagaId),
      });
    }
    return proc;
  }

  /** A document's text: one sentence, or in re-chunking worlds 2 to 5 paragraphs (chunking 2 cuts
   * each apart, chunking 1 keeps them in one chunk). */
  private text(docId: string, variant: number): string {
    const first = `Variant ${variant} of ${docId} about Project Atlas.`;
    if (!this.index?.rechunk) return first;
    const more = Array.from({ length: variant + 1 }, (_, p) => `Paragraph ${p} of ${docId}, variant ${variant}, on Vega Observatory.`);
    return [first, ...more].join('\n\n');
  }

  private sagaId(kind: string): string {
    return `s${this.opts.seed}-${kind}${this.operatorSagas++}`;
  }

  /** `switching`/`rollback` worlds: the operator's transitions beside the writers (sim-reindex-ops.ts). */
  private async operate(lanes: number): Promise<void> {
    const index = this.index;
    if (!index) return;
    this.operator = await operate({
      index,
      sagas: this.opts.sagas,
      started: () => this.started,
      now: () => this.clock.now(),
      sleep: (ms) => this.clock.sleep(ms),
      spawn: (cacheMs) => this.spawn(false, cacheMs === undefined ? {} : { cacheMs }),
      gate: (closed) => {
        this.gateClosed = closed;
      },
      idle: () => this.lanesAtGate + this.lanesDone === lanes,
      sagaIds: () => this.sagaId('rx'),
    });
  }

  /** Reindex worlds: the record, then every document committed (variant 0) by a fault-free process. */
  private async setupIndex(index: SimIndex): Promise<void> {
    await index.install(this.stores);
    // While migrating, written before the migration began: in the old target only.
    const p = this.spawn(false, { dualWrites: index.switched });
    // (`starting`: the record is steady, there is nothing to dual-write to yet.)
    // Re-chunking worlds: 4 documents no writer touches ("cold"), so that only the reindex loop
    // gives them the new chunking (the reindex saga cuts, writes and embeds it): the writers'
    // dual writes give it to every document they write.
    const ids = [
      ...Array.from({ length: this.opts.docs }, (_, i) => `sim-${i}`),
      ...(index.rechunk ? Array.from({ length: 4 }, (_, i) => `cold-${i}`) : []),
    ];
    for (const id of ids) {
      const r = await p.writer.ingest({ id, title: `Doc ${id}`, text: this.text(id, 0), metadata: {} }, { sagaId: `setup-${id}` });
      if (r.status !== 'completed') throw new Error(`setup of ${id}: ${r.status}`);
    }
  }

  /**
   * Reindex worlds, once every saga ended: the reindex loop to its fixed point (migrating), then
   * both targets checked in full (sim-reindex.ts finalPass), by a fault-free process.
   */
  async finalReindex(label: string): Promise<ReindexSummary | undefined> {
    const index = this.index;
    if (!index) return undefined;
    const p = this.spawn(false);
    const { targets, reindexDef } = p;
    if (!targets || !reindexDef) throw new Error('a reindex world process without targets');
    return this.withUnrefTimers(() =>
      finalPass(
        index,
        { stores: p.stores, engine: p.engine, targets, reindexDef },
        this.stores,
        (x) => this.until(x),
        label,
        () => this.sagaId('final'),
        (ms) => this.clock.sleep(ms),
        this.finishStale,
      ),
    );
  }

  private fail(
    id: string,
    what: string,
    when: string,
    store: StoreName,
    code: 'STORE_TRANSIENT' | 'STORE_PERMANENT' = 'STORE_TRANSIENT',
  ): never {
    if (code === 'STORE_PERMANENT') this.permanentFaults++;
    else this.faults++;
    this.note(`${this.clock.now()} ${id} ${what} fault ${code} ${when};`);
    throw new StoreError(store, code, `simulated ${code === 'STORE_PERMANENT' ? 'permanent' : 'transient'} fault ${when} ${what}`);
  }

  /** Runs until `done` settles, moving virtual time whenever nothing else can run. */
  async until<T>(done: Promise<T>): Promise<T> {
    let settled = false;
    const out = done.finally(() => {
      settled = true;
    });
    out.catch(() => undefined); // a failure is the caller's (below), not an unhandled rejection meanwhile
    while (!settled) {
      await macrotask();
      if (settled) break;
      if (!this.clock.advance()) {
        // Nothing scheduled in virtual time: give the event loop another turn (counted in the trace).
        await new Promise((r) => setImmediate(r));
        this.note('real-wait;');
      }
    }
    return out;
  }

  private get finishStale(): boolean {
    return this.opts.finishStale === true || process.env.SIM_FINISH_STALE !== undefined;
  }

  /** The workload: `processes` processes, `lanes` writers each, ingests (updates) and deletes of
   * `docs` shared documents until `sagas` were started; crashed processes are replaced. */
  async run(): Promise<WorldResult> {
    const work = async (): Promise<void> => {
      const procs = Array.from({ length: this.opts.processes }, () => this.spawn());
      // `finishing`: one more writer, in a process that lives through the whole world (started
      // before the switch, never replaced): what `--finish` drops, it opened. SIM_FINISH_STALE=1:
      // it keeps the record it read first for good (a write landing later after its record read
      // than --finish waits; fails: the write creates the dropped collection again).
      const longLived = this.index?.kind === 'finishing';
      if (longLived) procs.push(this.spawn(false, this.finishStale ? { cacheMs: 3_600_000 } : {}));
      const lane = async (slot: number): Promise<void> => {
        while (this.started < this.opts.sagas) {
          if (this.gateClosed) {
            this.lanesAtGate++; // the operator drains the writers before --switch
            while (this.gateClosed) await this.clock.sleep(5);
            this.lanesAtGate--;
            continue;
          }
          if (this.index?.kind === 'starting' && !this.migrationStarted && this.started >= this.opts.sagas * 0.9) {
            this.migrationStarted = true; // the operator runs `reindex` (not a fault point)
            await this.index.start(this.stores);
          }
          let p = procs[slot];
          if (!p || !p.alive()) {
            p = this.spawn();
            procs[slot] = p;
            void p.engine.recover({ limit: 16 }).catch(() => 0);
          }
          const docId = `sim-${Math.floor(this.random() * this.opts.docs)}`;
          const sagaId = `s${this.opts.seed}-${this.started++}`;
          const variant = Math.floor(this.random() * 4);
          const reindex = p.reindex && this.random() < 0.3 ? p.reindex : undefined;
          const op = reindex
            ? reindex(docId, sagaId)
            : this.random() < 0.25
              ? p.writer.delete(docId, { sagaId })
              : p.writer.ingest({ id: docId, title: `Doc ${docId}`, text: this.text(docId, variant), metadata: {} }, { sagaId });
          // A crashed process's call never returns: the lane moves on once it is dead.
          let over = false;
          await Promise.race([op.catch(() => undefined), this.deadOf(p, () => over)]);
          over = true;
        }
      };
      const lanes = this.opts.processes * this.opts.lanes + (longLived ? 1 : 0);
      const laneDone = async (i: number): Promise<void> => {
        await lane(longLived && i === lanes - 1 ? this.opts.processes : i % this.opts.processes);
        this.lanesDone++;
      };
      await Promise.all([...Array.from({ length: lanes }, (_, i) => laneDone(i)), this.operate(lanes)]);
      // A fresh, fault-free process finishes whatever the dead left, as leases expire.
      const finisher = this.spawn(false);
      for (let round = 0; round < 200; round++) {
        const claimed = await finisher.engine.recover({ limit: 256, includePending: true });
        await finisher.engine.idle();
        const open =
          (await this.log.count({ status: 'running' })) +
          (await this.log.count({ status: 'compensating' })) +
          (await this.log.count({ status: 'pending' }));
        if (claimed === 0 && open === 0) break;
        if (claimed === 0) await this.clock.sleep(this.opts.leaseMs);
      }
    };
    await this.withUnrefTimers(async () => {
      if (this.index) await this.until(this.setupIndex(this.index));
      await this.until(work());
    });
    return {
      sagasStarted: this.started,
      crashes: this.crashes,
      faults: this.faults,
      permanentFaults: this.permanentFaults,
      hash: this.hash.toString(16),
      virtualMs: this.clock.now() - 1_000_000,
      stores: this.stores,
      log: this.log,
      effects: this.effects,
      batches: this.batchFigures(),
    };
  }

  /**
   * A crashed process's steps never settle, so the engine's real step-timeout timers for them
   * would keep this process alive for their full length after the test: timers created while
   * the world runs are unref'd (the world itself waits on virtual time, never on them).
   */
  private async withUnrefTimers<T>(body: () => Promise<T>): Promise<T> {
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => realSetTimeout(...args).unref()) as typeof setTimeout;
    try {
      return await body();
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
  }

  private batchFigures(): BatchFigures {
    const ops = Object.values(this.batchStats.summary());
    const staleInShared = this.effects.effects.filter((e) => e.stale && e.batch > 1);
    return {
      batches: ops.reduce((n, o) => n + o.batches, 0),
      sharedMembers: this.effects.effects.filter((e) => e.batch > 1).length,
      maxBatch: ops.reduce((n, o) => Math.max(n, o.max), 0),
      staleMembers: staleInShared.length,
      staleRefused: staleInShared.filter((e) => !e.changed).length,
      crashesAfterApply: this.crashesAfterApply,
      stalls: this.stalls,
    };
  }

  /** Resolves (in virtual time) once `p` has crashed. */
  private async deadOf(p: { alive: () => boolean }, over: () => boolean): Promise<void> {
    while (p.alive()) {
      await this.clock.sleep(50);
      if (over()) return never;
    }
  }
}
