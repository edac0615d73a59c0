// The deterministic simulation's world: a virtual clock, the memory saga log, the model stores
// (sim-stores.ts) and "processes" (an engine + a MemoryWriter each) whose every store call and log
// call is a point where, seeded, the process may crash (it and everything it awaits stop forever)
// or a store call may fail transiently (before it applies, or after: "maybe applied"). Store calls
// take a seeded virtual latency, which is what interleaves the processes; time only moves when
// nothing else can run, so a seed replays bit for bit (the trace hash says so).
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, seededRandom, type Clock, type SagaLogBackend } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { StoreError } from '../../src/stores/errors.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { EffectLog } from './sim-effects.js';
import { simStores } from './sim-stores.js';

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

  constructor(readonly opts: WorldOptions) {
    this.random = seededRandom(opts.seed);
    this.clock = new VirtualClock(seededRandom(opts.seed ^ 0x5bd1e995));
    this.log = new MemorySagaLog({ now: () => this.clock.now() });
    this.stores = this.effects.wrap(simStores(() => this.clock.now(), this.embedder.dimension));
  }

  /** FNV-1a over everything that happens: equal hashes mean the same run. */
  private note(s: string): void {
    if (process.env.SIM_TRACE) this.trace.push(s);
    for (let i = 0; i < s.length; i++) this.hash = Math.imul(this.hash ^ s.charCodeAt(i), 0x01000193) >>> 0;
  }

  /** A process: its own engine and writer over views of the stores and the log that can die. */
  spawn(faulty = true): { engine: SagaEngine; writer: MemoryWriter; alive: () => boolean } {
    const id = `p${this.procNo++}`;
    let dead = false;
    const point = (what: string): boolean => {
      if (dead) return false;
      if (faulty && this.random() < this.opts.crashRate) {
        dead = true;
        this.crashes++;
        this.note(`${this.clock.now()} ${id} crash ${what};`);
        return false;
      }
      return true;
    };
    const storeView = <T extends object>(name: StoreName, target: T): T =>
      new Proxy(target, {
        get: (t, prop, recv) => {
          const v: unknown = Reflect.get(t, prop, recv);
          if (typeof v !== 'function' || typeof prop !== 'string') return v;
          return async (...args: unknown[]): Promise<unknown> => {
            const what = `${name}.${prop}`;
            if (!point(what)) return never;
            await this.clock.sleep(Math.floor(this.random() * 4));
            if (dead) return never;
            // Faults hit the saga's writes (those carry a WriteContext). The reads before a saga
            // starts ride out failures on wall-clock timers (src/ingest/ride-out.ts), which would
            // make the run depend on real time: they may crash the process, not fail.
            const last = args[args.length - 1] as { sagaId?: unknown } | undefined;
            const fenced = typeof last === 'object' && last !== null && typeof last.sagaId === 'string';
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
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
    const s = this.stores;
    const stores: StoreSet = {
      postgres: storeView('postgres', s.postgres),
      neo4j: storeView('neo4j', s.neo4j),
      qdrant: storeView('qdrant', s.qdrant),
      redis: storeView('redis', s.redis),
    };
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
    const writer = new MemoryWriter({ stores, engine, embedder: this.embedder, stepTimeoutMs: 3_600_000 });
    return { engine, writer, alive: () => !dead };
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

  /** The workload: `processes` processes, `lanes` writers each, ingests (updates) and deletes of
   * `docs` shared documents until `sagas` were started; crashed processes are replaced. */
  async run(): Promise<WorldResult> {
    const work = async (): Promise<void> => {
      const procs = Array.from({ length: this.opts.processes }, () => this.spawn());
      const lane = async (slot: number): Promise<void> => {
        while (this.started < this.opts.sagas) {
          let p = procs[slot];
          if (!p || !p.alive()) {
            p = this.spawn();
            procs[slot] = p;
            void p.engine.recover({ limit: 16 }).catch(() => 0);
          }
          const docId = `sim-${Math.floor(this.random() * this.opts.docs)}`;
          const sagaId = `s${this.opts.seed}-${this.started++}`;
          const variant = Math.floor(this.random() * 4);
          const op =
            this.random() < 0.25
              ? p.writer.delete(docId, { sagaId })
              : p.writer.ingest(
                  { id: docId, title: `Doc ${docId}`, text: `Variant ${variant} of ${docId} about Project Atlas.`, metadata: {} },
                  { sagaId },
                );
          // A crashed process's call never returns: the lane moves on once it is dead.
          let over = false;
          await Promise.race([op.catch(() => undefined), this.deadOf(p, () => over)]);
          over = true;
        }
      };
      await Promise.all(Array.from({ length: this.opts.processes * this.opts.lanes }, (_, i) => lane(i % this.opts.processes)));
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
    // A crashed process's steps never settle, so the engine's real step-timeout timers for them
    // would keep this process alive for their full length after the test: timers created while
    // the world runs are unref'd (the world itself waits on virtual time, never on them).
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => realSetTimeout(...args).unref()) as typeof setTimeout;
    try {
      await this.until(work());
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
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
