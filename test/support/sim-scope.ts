// One execution of an exhaustive small scope (test/unit/sim-exhaustive.test.ts): 2-3 sagas on ONE
// document, each from its own "process" (the real SagaEngine + MemoryWriter + sagas), on the
// memory saga log and the model stores (sim-stores.ts), with a virtual clock. Every store call
// and every log call a process makes waits, pending, until the explorer (sim-explore.ts) chooses
// it; it then runs atomically and the process continues until all its work waits again.
//
// Time: a sleep (retry backoff, polling) ends only when no call is pending ("tick"); that is the
// one bound on the interleavings besides the single fault: a process that waits on a timer does
// not interleave with calls that could run without time passing.
//
// Faults (at most one per execution, offered at every choice point): `crash:p` (p stops for good:
// its pending calls never run), `expire:p` (p's leases expire while it keeps running: what it has
// in flight lands late, as a stale owner), `fail:<call>` (that saga write is refused with
// STORE_PERMANENT, nothing applied). After a crash or an expiry a new process `q` recovers the
// expired sagas, its calls scheduled like any other. When all work has ended, a fault-free process
// finishes what is left (as the random simulation does) and the invariants are checked.
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, type Claimed, type SagaDefinition, type SagaLog } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { StoreError } from '../../src/stores/errors.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import type { Access, Choice, Run } from './sim-explore.js';
import { EffectLog } from './sim-effects.js';
import { simStores } from './sim-stores.js';
import { withBatchForms } from './sim-batch.js';
import { coalesceStores } from '../../src/stores/coalesce/stores.js';
import { VirtualClock } from './sim-world.js';
import { allSagas } from './log-pages.js';
import { SimIndex, finalPass, reindexDefinition, reindexOne } from './sim-reindex.js';
import type { VectorTargets } from '../../src/ingest/reindex/targets.js';
import type { ReindexSummary } from '../../src/ingest/reindex/run.js';
import type { ReindexInput } from '../../src/ingest/sagas/reindex-saga.js';

export type ScopeOp = { kind: 'ingest'; variant: number } | { kind: 'delete' } | { kind: 'reindex' };
export type FaultKind = 'crash' | 'expire' | 'fail';

export interface Scope {
  name: string;
  /** The document before the sagas start: absent, or committed with this variant. */
  initial: number | null;
  ops: ScopeOp[];
  faults: FaultKind[];
  /**
   * The store group commit (src/stores/coalesce/) in every process, over batched model stores
   * (sim-batch.ts); p0 also ingests a companion document, so p0's two sagas share batched calls:
   * calls of one process with the same label that are pending together resolve in one choice (as
   * a log group commit wakes them in one run), so their next store calls go out as one batch. A
   * crash then falls between a batch's apply and its members' logged outcomes, and an expiry of
   * p0 leaves its members stale inside a shared batch.
   */
  coalesce?: boolean;
  /**
   * A reindex in progress (sim-reindex.ts, `migrating`): the index record names a next target (a
   * second collection, dimension 12), the writes dual-write, the initial document is in the old
   * target only (written before the migration began), and `reindex` ops run the real reindex saga.
   */
  reindex?: boolean;
  /** The processes a crash or an expiry may hit (default: every one): a smaller scope for CI. */
  faultProcs?: string[];
}

export const DOC_ID = 'doc';
export const COMPANION_ID = 'doc-b';
const COMPANION = { id: COMPANION_ID, title: 'Companion', text: 'The companion document about Project Atlas.', metadata: {} };
const LEASE_MS = 10_000;
const READS = /^(get|list|holderOf|statusesOf|versionsOf|inspect|scan|pendingStats|health|load|count|owners|entities|search)/;
const never = new Promise<never>(() => undefined);
const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));
/** Event-loop turns to let every process reach its next call (SIM_TURNS: more, to check 1 is enough). */
const TURNS = Number(process.env.SIM_TURNS ?? 1);
const embedder = new HashingEmbedder(8);

export const docOf = (variant: number) => ({
  id: DOC_ID,
  title: `Doc ${variant}`,
  text: `Variant ${variant} of the document about Project Atlas.`,
  metadata: { v: variant },
});

interface Pending extends Choice {
  exec: () => void;
  fail?: () => void;
}

interface Proc {
  id: string;
  engine: SagaEngine;
  writer: MemoryWriter;
  dead: boolean;
  finished: boolean;
  faultable: boolean;
  /** scope.reindex: one reindex saga, as the reindex loop starts it. */
  reindex?: (docId: string, sagaId: string) => Promise<unknown>;
}

function logAccesses(method: string, args: unknown[]): Access[] {
  const a = args[0] as { sagaId?: unknown } | string | undefined;
  const one = (id: unknown, write: boolean): Access[] => [{ obj: `log:${String(id)}`, write }];
  switch (method) {
    case 'begin':
    case 'append':
    case 'claimSaga':
      return one((a as { sagaId?: unknown }).sagaId, true);
    case 'load':
      return one(a, false);
    case 'claimStuck':
      return one(a, true);
    case 'renew':
    case 'release':
      return (args[1] as Array<{ sagaId: string }>).flatMap((h) => one(h.sagaId, true));
    default:
      return [{ obj: 'log:*', write: true }];
  }
}

/** Coalesced scopes: one choice per (process, label); it stands for every such pending call. */
function grouped(calls: Pending[]): Choice[] {
  const out: Choice[] = [];
  for (const c of calls) {
    const same = calls.filter((d) => d.proc === c.proc && d.label === c.label);
    if (same[0] !== c) continue;
    const accesses = same.flatMap((d) => (d.accesses === 'all' ? [] : d.accesses));
    out.push({ id: c.id, proc: c.proc, label: c.label, accesses: same.some((d) => d.accesses === 'all') ? 'all' : accesses });
  }
  return out;
}

/** Store calls that run without a scheduling point (see storeView). */
const UNSCHEDULED: ReadonlySet<string> = new Set([
  'stageInput',
  'stagedInput',
  'dropStagedInputs',
  'listStaged',
  'recordErasure',
  // The embedding cache changes no store's data (a cached vector equals a fresh one) and verify
  // does not read it: its calls cannot change what a scope checks, so they add no choice points.
  'lookupEmbeddings',
  'putEmbeddings',
  'forgetEmbeddings',
]);

export class ScopeRun implements Run {
  readonly clock = new VirtualClock(() => 0.5);
  readonly log = new MemorySagaLog({ now: () => this.clock.now() });
  readonly effects = new EffectLog();
  readonly stores: StoreSet;
  readonly procs: Proc[] = [];
  /** What each writer's call returned (or threw): `p0` ... */
  readonly results = new Map<string, unknown>();
  readonly errors: string[] = [];
  fault: string | undefined;
  staleLanded = false;
  private pending: Pending[] = [];
  private readonly tokens = new Map<string, number>();
  /** Which process holds each saga's lease (begin and claims), for the faults' footprints. */
  private readonly owners = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  private started = false;
  /** The index record and the next target (scope.reindex). */
  readonly index: SimIndex | undefined;

  constructor(readonly scope: Scope) {
    this.index = scope.reindex ? new SimIndex('migrating', embedder.dimension) : undefined;
    if (scope.reindex && scope.coalesce) throw new Error('a reindex scope is not coalesced (not modelled)');
    const models = simStores(() => this.clock.now(), embedder.dimension);
    this.stores = this.effects.wrap(scope.coalesce ? withBatchForms(models) : models);
    this.effects.isStale = (sagaId, token) => token < (this.tokens.get(sagaId) ?? 0);
  }

  /** A process whose store and log calls wait for the explorer. */
  private spawn(id: string, faultable: boolean): Proc {
    const proc = { id, dead: false, finished: false, faultable } as Proc;
    const call = (label: string, accesses: Access[], run: () => unknown, failWith?: () => Error): Promise<unknown> => {
      if (proc.dead) return never;
      const n = this.counters.get(id) ?? 0;
      this.counters.set(id, n + 1);
      return new Promise((resolve, reject) => {
        const p: Pending = {
          id: `${id}#${n}`,
          proc: id,
          label,
          accesses,
          exec: () => {
            try {
              Promise.resolve(run()).then(resolve, reject);
            } catch (err) {
              reject(err);
            }
          },
        };
        if (failWith) p.fail = () => reject(failWith());
        this.pending.push(p);
      });
    };
    // `obj`: what a call touches, for independence; another collection (withCollection) is its own.
    const storeView = <T extends object>(name: StoreName, target: T, obj: string = name): T =>
      new Proxy(target, {
        get: (t, prop, recv) => {
          const v: unknown = Reflect.get(t, prop, recv);
          if (typeof v !== 'function' || typeof prop !== 'string') return v;
          if (prop === 'withCollection')
            return (n: string, d: number): unknown =>
              storeView(name, (v as (n: string, d: number) => object).call(t, n, d), `${name}@${n}`);
          // A saga's staged content (content by reference) is a row keyed by its own saga id that
          // no other saga of a scope writes: its calls commute with every other saga's, so they run
          // unscheduled. Scheduled, each was a choice and fault point: create+create grew from about
          // 2,000 to 84,700 executions and the CI scopes past their 10 minutes.
          if (UNSCHEDULED.has(prop)) return (v as (...a: unknown[]) => unknown).bind(t);
          return (...args: unknown[]): Promise<unknown> => {
            const saga = args.some((a) => typeof a === 'object' && a !== null && typeof (a as { sagaId?: unknown }).sagaId === 'string');
            const failWith = saga ? () => new StoreError(name, 'STORE_PERMANENT', `refused ${name}.${prop} (exhaustive scope)`) : undefined;
            return call(
              `${obj}.${prop}`,
              [{ obj, write: !READS.test(prop) }],
              () => (v as (...a: unknown[]) => unknown).apply(t, args),
              failWith,
            );
          };
        },
      });
    const logView = new Proxy(this.log, {
      get: (t, prop, recv) => {
        if (prop === 'waitForChange') return undefined; // polls on the virtual clock instead
        const v: unknown = Reflect.get(t, prop, recv);
        if (typeof v !== 'function' || typeof prop !== 'string') return v;
        return (...args: unknown[]): Promise<unknown> =>
          call(`log.${prop}`, logAccesses(prop, args), async () => {
            const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
            this.noteTokens(id, prop, args, out);
            return out;
          });
      },
    }) as SagaLog;
    const s = this.scope.coalesce ? coalesceStores(this.stores) : this.stores;
    const stores: StoreSet = {
      postgres: storeView('postgres', s.postgres),
      neo4j: storeView('neo4j', s.neo4j),
      qdrant: storeView('qdrant', s.qdrant),
      redis: storeView('redis', s.redis),
    };
    proc.engine = new SagaEngine({ log: logView, owner: `sim:${id}`, leaseMs: LEASE_MS, heartbeatMs: 0, clock: this.clock });
    const targets = this.index?.targets(stores, () => this.clock.now());
    proc.writer = new MemoryWriter({
      stores,
      engine: proc.engine,
      embedder,
      stepTimeoutMs: Infinity,
      busyTakeover: false,
      ...(targets ? { targets } : {}),
    });
    if (targets) {
      const def = reindexDefinition(stores, targets);
      proc.engine.register(def);
      proc.reindex = (docId, sagaId) => reindexOne(stores, proc.engine, def, docId, sagaId);
    }
    this.procs.push(proc);
    return proc;
  }

  /** The newest fencing token of each saga (begin and claims), to tell a stale owner's writes. */
  private noteTokens(proc: string, method: string, args: unknown[], out: unknown): void {
    const set = (id: string, token: number): void => {
      this.tokens.set(id, Math.max(token, this.tokens.get(id) ?? 0));
      this.owners.set(id, proc);
    };
    if (method === 'begin' && (out as { created?: boolean }).created) set((args[0] as { sagaId: string }).sagaId, 1);
    if (method === 'claim') for (const c of out as Claimed[]) set(c.saga.sagaId, c.lease.fencingToken);
    if ((method === 'claimSaga' || method === 'claimStuck') && out) {
      const c = out as { saga: { sagaId: string }; lease: { fencingToken: number } };
      set(c.saga.sagaId, c.lease.fencingToken);
    }
  }

  /** Writes the initial document (not explored) and starts one process per saga. */
  private async setup(): Promise<void> {
    if (this.index) await this.index.install(this.stores);
    // With a reindex: written before the migration began (no targets), so in the old target only.
    if (this.scope.initial !== null) {
      const engine = new SagaEngine({ log: this.log, owner: 'sim:setup', leaseMs: LEASE_MS, heartbeatMs: 0, clock: this.clock });
      const writer = new MemoryWriter({ stores: this.stores, engine, embedder, stepTimeoutMs: Infinity, busyTakeover: false });
      const r = await this.until(writer.ingest(docOf(this.scope.initial), { sagaId: 'init' }));
      if (r.status !== 'completed') throw new Error(`setup: ${r.status}`);
    }
    this.scope.ops.forEach((op, i) => {
      const p = this.spawn(`p${i}`, this.scope.faultProcs?.includes(`p${i}`) ?? true);
      const sagaId = `s${i}`;
      const work =
        op.kind === 'delete'
          ? p.writer.delete(DOC_ID, { sagaId })
          : op.kind === 'reindex'
            ? (p.reindex?.(DOC_ID, sagaId) ?? Promise.reject(new Error('a reindex op needs scope.reindex')))
            : p.writer.ingest(docOf(op.variant), { sagaId });
      const companion = this.scope.coalesce && i === 0 ? p.writer.ingest(COMPANION, { sagaId: 'sb' }) : undefined;
      this.watch(p, companion ? Promise.all([work, companion]) : work);
    });
  }

  private watch(p: Proc, work: Promise<unknown>): void {
    work
      .then(
        (r) => this.results.set(p.id, r),
        (err: unknown) => {
          this.results.set(p.id, err);
          this.errors.push(`${p.id}: ${(err as { code?: string }).code ?? ''} ${(err as Error).message}`);
        },
      )
      .finally(() => {
        p.finished = true;
      });
  }

  async next(): Promise<Choice[]> {
    if (!this.started) {
      this.started = true;
      await this.setup();
    }
    for (let i = 0; i < TURNS; i++) await macrotask();
    const calls = this.pending.filter((p) => !this.procs.find((q) => q.id === p.proc)?.dead);
    this.pending = calls;
    const busy = this.procs.filter((p) => !p.dead && !p.finished);
    if (calls.length === 0 && this.clock.waiting === 0) {
      if (busy.length === 0) return [];
      for (let i = 0; i < 20 && this.pending.length === 0 && this.clock.waiting === 0 && busy.some((p) => !p.finished); i++)
        await macrotask();
      if (this.pending.length === 0 && this.clock.waiting === 0 && busy.some((p) => !p.finished)) {
        throw new Error(
          `deadlock: ${busy
            .filter((p) => !p.finished)
            .map((p) => p.id)
            .join(', ')} wait on nothing`,
        );
      }
      return this.next();
    }
    const choices: Choice[] = this.scope.coalesce ? grouped(calls) : [...calls];
    if (calls.length === 0) choices.push({ id: 'tick', proc: '*', label: 'time passes', accesses: 'all' });
    if (this.fault === undefined) {
      // Footprints: every fault uses up the one fault; a crash or an expiry rewrites the leases
      // of the sagas the process holds (and starts q); a refusal only answers that call.
      const kinds = this.scope.faults;
      const fault: Access = { obj: 'fault', write: true };
      for (const p of busy.filter((q) => q.faultable)) {
        const leases = [...this.owners].filter(([, o]) => o === p.id).map(([sagaId]): Access => ({ obj: `log:${sagaId}`, write: true }));
        if (kinds.includes('crash'))
          choices.push({ id: `crash:${p.id}`, proc: p.id, label: `${p.id} crashes`, accesses: [fault, ...leases] });
        if (kinds.includes('expire') && p.engine.activeCount > 0)
          choices.push({ id: `expire:${p.id}`, proc: 'faults', label: `${p.id}'s leases expire`, accesses: [fault, ...leases] });
      }
      if (kinds.includes('fail'))
        for (const c of calls)
          if (c.fail) choices.push({ id: `fail:${c.id}`, proc: c.proc, label: `${c.label} refused`, accesses: [fault] });
    }
    return choices;
  }

  async take(id: string): Promise<void> {
    if (process.env.SIM_TRACE) console.log(`take ${id} ${this.pending.find((p) => id.endsWith(p.id))?.label ?? ''}`);
    if (id === 'tick') {
      this.clock.advance();
      return;
    }
    const [kind, target] = id.includes(':') ? (id.split(':', 2) as [string, string]) : ['call', id];
    if (kind === 'call' || kind === 'fail') {
      const i = this.pending.findIndex((p) => p.id === target);
      const p = this.pending[i];
      if (!p) throw new Error(`no pending call ${target}`);
      this.pending.splice(i, 1);
      // Coalesced: its group (see grouped), the same call of the same process, resolves with it.
      const group = kind === 'call' && this.scope.coalesce ? this.pending.filter((q) => q.proc === p.proc && q.label === p.label) : [];
      this.pending = this.pending.filter((q) => !group.includes(q));
      if (kind === 'fail') {
        this.fault = id;
        p.fail?.();
      } else {
        const before = this.effects.effects.length;
        p.exec();
        for (const q of group) q.exec();
        const added = this.effects.effects.slice(before);
        if (added.some((e) => e.stale && e.changed && e.call.startsWith('qdrant.'))) this.staleLanded = true;
      }
      return;
    }
    const p = this.procs.find((q) => q.id === target);
    if (!p) throw new Error(`no process ${target}`);
    this.fault = id;
    if (kind === 'crash') p.dead = true;
    // Its leases run out (a crashed process cannot renew them; a stalled one does not).
    for (const s of await allSagas(this.log)) {
      if (s.owner === p.engine.owner && (s.status === 'running' || s.status === 'compensating')) {
        await this.log.release(p.engine.owner, [{ sagaId: s.sagaId, fencingToken: s.fencingToken }]);
      }
    }
    const q = this.spawn('q', false);
    this.watch(
      q,
      q.engine.recover({ limit: 16 }).then(() => q.engine.idle()),
    );
  }

  /** Runs `done` to its end outside the explorer, moving virtual time when nothing else can run. */
  async until<T>(done: Promise<T>): Promise<T> {
    let settled = false;
    const out = done.finally(() => {
      settled = true;
    });
    for (let idle = 0; !settled; ) {
      await macrotask();
      if (settled) break;
      if (this.clock.advance()) idle = 0;
      else if (++idle > 1000) throw new Error('until: nothing can run');
    }
    return out;
  }

  /** A fault-free process outside the explorer, with every saga definition (and the targets). */
  private fresh(owner: string): {
    engine: SagaEngine;
    targets?: VectorTargets;
    reindexDef?: SagaDefinition<ReindexInput, Record<string, unknown>>;
  } {
    const engine = new SagaEngine({ log: this.log, owner, leaseMs: LEASE_MS, heartbeatMs: 0, clock: this.clock });
    const targets = this.index?.targets(this.stores, () => this.clock.now());
    new MemoryWriter({
      stores: this.stores,
      engine,
      embedder,
      stepTimeoutMs: Infinity,
      busyTakeover: false,
      ...(targets ? { targets } : {}),
    });
    if (!targets) return { engine };
    const reindexDef = reindexDefinition(this.stores, targets);
    engine.register(reindexDef);
    return { engine, targets, reindexDef };
  }

  /** scope.reindex, once everything ended: the reindex loop to its fixed point, both targets in full. */
  async reindexFinal(label: string): Promise<ReindexSummary | undefined> {
    const { engine, targets, reindexDef } = this.fresh('sim:reindex');
    if (!this.index || !targets || !reindexDef) return undefined;
    return finalPass(this.index, { stores: this.stores, engine, targets, reindexDef }, this.stores, (x) => this.until(x), label);
  }

  /** A fault-free process finishes what is left (as leases expire), outside the explorer. */
  async finish(): Promise<void> {
    const { engine } = this.fresh('sim:finisher');
    await this.until(
      (async () => {
        for (let round = 0; round < 50; round++) {
          const claimed = await engine.recover({ limit: 16, includePending: true });
          await engine.idle();
          const open =
            (await this.log.count({ status: 'running' })) +
            (await this.log.count({ status: 'compensating' })) +
            (await this.log.count({ status: 'pending' }));
          if (claimed === 0 && open === 0) return;
          if (claimed === 0) await this.clock.sleep(LEASE_MS + 1);
        }
      })(),
    );
  }
}
