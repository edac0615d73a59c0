// Ingest on the real servers (PostgreSQL, Neo4j, Redis, the Qdrant Edge front): one row per
// (plan, saga log, concurrency, fault rate), or the raw floor: the same store writes for the same
// documents, issued directly in the default plan's shape, with no saga, no log and no pre-reads.
import { Session } from 'neo4j-driver';
import { openApp, type App } from '../src/app.js';
import { versionOf } from '../src/ingest/sagas/version.js';
import { contentSha256 } from '../src/ingest/prepare.js';
import { withFaults } from '../src/stores/faults.js';
import type { StoreSet } from '../src/stores/types.js';
import { benchDocs } from './docs.js';
import { freshStores, serviceUrls } from './servers-setup.js';
import { StoreTimer, pct, type CallRow } from './timing.js';
import { cpuPerDoc, sampleCpu, selfCpu, serverPids, type ServerCpu } from './server-cpu.js';

export interface ServersBenchOptions {
  plan: 'default' | 'adr' | 'raw';
  /** sqlite-thread: the SQLite log committing in a worker thread. */
  log: 'sqlite' | 'sqlite-thread' | 'postgres';
  concurrency: number;
  n: number;
  /** Probability that a forward store write fails with a transient fault (0..1). */
  faultRate?: number;
  seed?: number;
}

export interface ServersRow {
  name: string;
  plan: string;
  log: string;
  concurrency: number;
  n: number;
  fault_rate: number;
  seed: number;
  throughput_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  completed: number;
  compensated: number;
  stuck: number;
  errors: number;
  success_rate: number;
  compensation_rate: number;
  faults_injected: number;
  pending_p50_ms: number | null;
  pending_p99_ms: number | null;
  neo4j_deadlocks: number;
  /** Store group commit on (default) or off (APEX_STORE_COALESCE=off): the before/after switch. */
  coalesce: boolean;
  /** APEX_STORE_COALESCE_IN_FLIGHT when set (batches in flight per store operation). */
  coalesce_in_flight?: number;
  /** Coalesced batch sizes per store operation (p50 / max members per batched call). */
  batches: Record<string, { batches: number; members: number; p50: number; max: number }>;
  store_calls: CallRow[];
  /** CPU seconds per document of each local server process (its whole tree) and of this process
   * ("bench": the engine, the drivers, the embedder), over the measured run (bench/server-cpu.ts). */
  cpu_s_per_doc: ServerCpu;
}

const FORWARD = ['putPending', 'commit', 'finishVersion', 'acquire', 'writeVersion', 'writeVersion', 'put'];

/** Counts deadlocks seen inside the Neo4j driver's managed transactions (it retries them itself). */
let deadlocks = 0;
let patched = false;
function countNeo4jDeadlocks(): void {
  if (patched) return;
  patched = true;
  const proto = Session.prototype as unknown as {
    executeWrite: (work: (tx: unknown) => Promise<unknown>, config?: unknown) => Promise<unknown>;
  };
  const original = proto.executeWrite;
  proto.executeWrite = function (this: unknown, work, config) {
    const counted = async (tx: unknown): Promise<unknown> => {
      try {
        return await work(tx);
      } catch (err) {
        if (/Deadlock/i.test(String((err as { code?: unknown }).code ?? ''))) deadlocks++;
        throw err;
      }
    };
    return original.call(this, counted, config);
  };
}

export async function benchServers(opts: ServersBenchOptions): Promise<ServersRow> {
  countNeo4jDeadlocks();
  deadlocks = 0;
  const seed = opts.seed ?? Date.now() % 1_000_000;
  const faultRate = opts.faultRate ?? 0;
  const fresh = await freshStores(serviceUrls(), opts.log === 'postgres' ? 'postgres' : 'sqlite');
  fresh.config.sqliteThread = opts.log === 'sqlite-thread';
  const coalesce = process.env.APEX_STORE_COALESCE !== 'off';
  fresh.config.coalesce = coalesce;
  const inFlight = Number(process.env.APEX_STORE_COALESCE_IN_FLIGHT ?? 0);
  if (inFlight > 0) fresh.config.coalesceInFlight = inFlight;
  const timer = new StoreTimer();
  let injected = 0;
  const faultControls: Array<{ injected(): unknown[] }> = [];
  const wrap = (stores: StoreSet): StoreSet => {
    let s = stores;
    if (faultRate > 0) {
      const w: Record<string, unknown> = {};
      for (const [name, store] of Object.entries(s)) {
        const { store: wrapped, faults } = withFaults(store as object, {
          random: { seed: seed + name.length, rate: faultRate, methods: FORWARD, when: 'either', retryableShare: 1 },
        });
        faultControls.push(faults);
        w[name] = wrapped;
      }
      s = w as unknown as StoreSet;
    }
    return timer.wrap(s);
  };
  const pendingSince = new Map<string, number>();
  const pending: number[] = [];
  const app = await openApp({
    env: {},
    config: fresh.config,
    plan: opts.plan === 'raw' ? 'default' : opts.plan,
    wrapStores: wrap,
    hooks: {
      onStepEnd: (e) => {
        if (!e.ok) return;
        if (e.step === 'postgres_pending') pendingSince.set(e.sagaId, performance.now());
        if (e.step === 'postgres_commit') {
          const t = pendingSince.get(e.sagaId);
          if (t !== undefined) pending.push(performance.now() - t);
          pendingSince.delete(e.sagaId);
        }
      },
    },
  });
  try {
    const warm = benchDocs(`warm-${seed}`, 10, seed + 1);
    const docs = benchDocs(`doc-${seed}`, opts.n, seed);
    const one = opts.plan === 'raw' ? rawWriter(app) : sagaWriter(app);
    for (const d of warm) await one(d);
    timer.reset();
    const batchesBefore = app.profile.batchStats.summary();
    pending.length = 0;
    deadlocks = 0;
    const counts = { completed: 0, compensated: 0, stuck: 0, errors: 0 };
    const lat: number[] = [];
    let next = 0;
    const pids = serverPids();
    const cpu0 = { ...sampleCpu(pids), bench: selfCpu() };
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (next < docs.length) {
        const doc = docs[next++];
        if (!doc) break;
        const a = performance.now();
        try {
          const status = await one(doc);
          if (status === 'completed') counts.completed++;
          else if (status === 'compensated') counts.compensated++;
          else counts.stuck++;
        } catch {
          counts.errors++;
        }
        lat.push(performance.now() - a);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const wall = performance.now() - t0;
    const cpu1 = { ...sampleCpu(pids), bench: selfCpu() };
    lat.sort((x, y) => x - y);
    pending.sort((x, y) => x - y);
    for (const f of faultControls) injected += f.injected().length;
    const n = docs.length;
    const plan = opts.plan === 'raw' ? 'raw floor' : `ingest ${opts.plan}`;
    return {
      name: `${plan}${opts.plan === 'raw' ? '' : ` log=${opts.log}`}${faultRate > 0 ? ` faults=${faultRate}` : ''}`,
      plan: opts.plan,
      log: opts.plan === 'raw' ? 'none' : opts.log,
      concurrency: opts.concurrency,
      n,
      fault_rate: faultRate,
      seed,
      throughput_per_s: +(n / (wall / 1000)).toFixed(1),
      p50_ms: pct(lat, 0.5),
      p90_ms: pct(lat, 0.9),
      p99_ms: pct(lat, 0.99),
      ...counts,
      success_rate: +(counts.completed / n).toFixed(4),
      compensation_rate: +(counts.compensated / n).toFixed(4),
      faults_injected: injected,
      pending_p50_ms: pending.length ? pct(pending, 0.5) : null,
      pending_p99_ms: pending.length ? pct(pending, 0.99) : null,
      neo4j_deadlocks: deadlocks,
      coalesce,
      ...(inFlight > 0 ? { coalesce_in_flight: inFlight } : {}),
      batches: sinceWarmup(app.profile.batchStats.summary(), batchesBefore),
      store_calls: timer.rows(),
      cpu_s_per_doc: cpuPerDoc(cpu0, cpu1, n),
    };
  } finally {
    await app.close();
    await fresh.drop();
  }
}

/** Batch counts of the measured run only (the warm-up's are subtracted; p50/max are whole-run). */
function sinceWarmup(now: ServersRow['batches'], before: ServersRow['batches']): ServersRow['batches'] {
  const out: ServersRow['batches'] = {};
  for (const [op, s] of Object.entries(now)) {
    const b = before[op];
    out[op] = { ...s, batches: s.batches - (b?.batches ?? 0), members: s.members - (b?.members ?? 0) };
  }
  return out;
}

type One = (doc: ReturnType<typeof benchDocs>[number]) => Promise<string>;

function sagaWriter(app: App): One {
  return async (doc) => (await app.writer.ingest(doc)).status;
}

/** The saga's store writes for a new document, in the default plan's shape, with no saga around them. */
function rawWriter(app: App): One {
  const { stores, embedder } = app;
  let k = 0;
  return async (doc) => {
    const ctx = { sagaId: `raw-${process.pid}-${k++}`, fencingToken: 1 };
    const sha = contentSha256(doc);
    const plain = await versionOf(doc, sha);
    await stores.postgres.putPending(plain, ctx);
    await Promise.all([
      stores.neo4j.writeVersion(plain, ctx),
      versionOf(doc, sha, { embedder }).then((v) => stores.qdrant.writeVersion(v, ctx)),
    ]);
    await stores.postgres.commit(doc.id, sha, ctx, null);
    await stores.redis.put(
      { docId: doc.id, title: doc.title, contentSha256: sha, chunkCount: plain.chunks.length, metadata: doc.metadata },
      ctx,
    );
    await stores.postgres.finishVersion(doc.id, null, ctx);
    return 'completed';
  };
}
