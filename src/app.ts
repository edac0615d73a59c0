// Wires one process: profile (stores + saga log), embedder, saga engine, writer. The CLI, the
// worker and the tests all start from here, so they run exactly the same write path.
import type { SagaLogBackend } from './saga/index.js';
import { intFromEnv } from './config/numeric.js';
import { configFromEnv, type Env, type ProfileConfig } from './config/profile.js';
import { openProfile, type OpenedProfile } from './wiring.js';
import { embedderFromEnv, embeddingCachePolicy, type Embedder } from './ingest/embedder.js';
import type { IngestPlan } from './ingest/sagas/ingest-saga.js';
import { MemoryWriter } from './ingest/writer.js';
import { StaleWriteSweeper } from './ingest/stale-sweeper.js';
import { DEFAULT_OUTAGE_BUDGET_MS, OUTAGE_BUDGET_RANGE, type OutageBudgets } from './ingest/sagas/outage-budget.js';
import { rideOutLog } from './log/ride-out-log.js';
import { LogWaits } from './log/log-waits.js';
import { outageStepsFromEnv } from './config/outage-steps.js';
import { StoreWaits } from './ingest/store-waits.js';
import { SagaEngine, type SagaHooks } from './saga/index.js';
import { Retention, retentionFromEnv } from './fleet/retention.js';
import { hasIndexState, type RelationalStore } from './stores/types.js';
import { IndexRecord } from './ingest/reindex/record.js';
import { checkProcessEmbedder, readViewOf, targetOfEmbedder, VectorTargets, type ReadView } from './ingest/reindex/targets.js';
import { DEFAULT_VECTOR_COLLECTION } from './ingest/reindex/control.js';
import { namespaceCollection } from './config/namespace.js';
import { initialState, type IndexState } from './ingest/reindex/state.js';
import { reindexSaga, type ReindexInput } from './ingest/sagas/reindex-saga.js';
import { searchDocuments, type SearchHit } from './ingest/read.js';
import type { SagaDefinition } from './saga/index.js';

export interface AppOptions {
  env?: Env;
  dataDir?: string;
  plan?: IngestPlan;
  /** Replaces the env-derived config (tests). */
  config?: ProfileConfig;
  embedder?: Embedder;
  /** Wraps the opened stores (tests inject faults here). */
  wrapStores?: (stores: OpenedProfile['stores']) => OpenedProfile['stores'];
  hooks?: SagaHooks | SagaHooks[];
  leaseMs?: number;
  stepTimeoutMs?: number;
  /** How long steps retry a store that is down; replaces APEX_STORE_OUTAGE_BUDGET_MS (per saga/step too). */
  outage?: OutageBudgets;
  /** Keep going when a store cannot connect (for `status`, which reports it). */
  lenientConnect?: boolean;
}

export interface App {
  profile: OpenedProfile;
  stores: OpenedProfile['stores'];
  engine: SagaEngine<SagaLogBackend>;
  writer: MemoryWriter;
  embedder: Embedder;
  /** Cleans up after sagas this process lost to another owner (docs/documents.md). */
  sweeper: StaleWriteSweeper;
  /** Documents waiting on a store that is down, in this process (progress lines, summaries). */
  waits: StoreWaits;
  /** Calls of this process waiting on the saga log while it is down (ridden out, issue 22). */
  logWaits: LogWaits;
  /** APEX_SAGA_RETENTION: workers and `serve` start it; `ingest` on a SQLite log runs one pass. */
  retention: Retention;
  /** The lease this process's engine takes (APEX_LEASE_MS): the fence sweep's unit. */
  leaseMs: number;
  /** The active index record and the vector targets it names (docs/reindex.md); absent when the
   * relational store keeps no record (test fakes). */
  index?: AppIndex;
  /** Vector search on the active index, with the embedder it was built with. */
  search(query: string, limit?: number): Promise<SearchHit[]>;
  /** The stores as reads and checks see them now (targets.ts): Qdrant bound to the active index,
   * which moves at a --switch; what verify, repair, search and the document view use. */
  readView(): Promise<ReadView>;
  close(opts?: { graceMs?: number }): Promise<void>;
}

export interface AppIndex {
  record: IndexRecord;
  targets: VectorTargets;
  /** The base collection name (versioned names derive from it). */
  base: string;
  /** The state read at start; `mismatch` when lenient start found this process's settings wrong. */
  atStart: IndexState | undefined;
  mismatch?: string;
  reindexDef: SagaDefinition<ReindexInput, Record<string, unknown>>;
}

export async function openApp(opts: AppOptions = {}): Promise<App> {
  const env = opts.env ?? process.env;
  const embedder = opts.embedder ?? embedderFromEnv(env);
  const config = opts.config ?? configFromEnv(env, opts.dataDir);
  // Every setting is checked before anything is opened: a bad one fails at start, leaving nothing behind.
  const leaseMs = opts.leaseMs ?? leaseFromEnv(env) ?? 30_000;
  const outage = opts.outage ?? outageFromEnv(env);
  const retentionMs = retentionFromEnv(env);
  const cacheFor = embeddingCachePolicy(env);
  const cacheEmbeddings = cacheFor(embedder);
  // The active index record (docs/reindex.md): created from today's settings on the first start,
  // and a process whose embedder contradicts it refuses to start (lenient `status` reports it).
  // The base collection: the namespace's on a Qdrant server (src/config/namespace.ts), else the
  // adapter's default (an embedded namespace has its own data directory).
  const base = config.namespace !== undefined && config.qdrantUrl ? namespaceCollection(config.namespace) : DEFAULT_VECTOR_COLLECTION;
  let record: IndexRecord | undefined;
  let atStart: IndexState | undefined;
  let mismatch: string | undefined;
  const vectorCollection = async (postgres: RelationalStore): Promise<string | undefined> => {
    if (!hasIndexState(postgres)) return undefined;
    record = new IndexRecord(postgres);
    atStart = (await record.ensure(initialState({ ...targetOfEmbedder(embedder), collection: base }))).state;
    try {
      checkProcessEmbedder(atStart, embedder);
    } catch (err) {
      if (!opts.lenientConnect) throw err;
      mismatch = err instanceof Error ? err.message : String(err);
    }
    return atStart.active.collection;
  };
  const profile = await openProfile(config, embedder, { lenient: opts.lenientConnect === true, vectorCollection });
  const stores = opts.wrapStores ? opts.wrapStores(profile.stores) : profile.stores;
  const primaryCollection = atStart?.active.collection ?? base;
  const targets = record ? new VectorTargets(record, { primary: stores.qdrant, primaryCollection, embedder, env }) : undefined;
  const logWaits = new LogWaits();
  const engine = new SagaEngine({
    // begin/append ride out an outage of the log's database within the outage budget (issue 22).
    log: rideOutLog(profile.log, { budgetMs: outage?.defaultMs ?? DEFAULT_OUTAGE_BUDGET_MS, onWait: logWaits.onWait }),
    leaseMs,
    hooks: opts.hooks,
  });
  const waits = new StoreWaits();
  engine.addHooks(waits.hooks);
  const writer = new MemoryWriter({
    stores,
    engine,
    embedder,
    plan: opts.plan,
    stepTimeoutMs: opts.stepTimeoutMs,
    waits,
    cacheEmbeddings,
    cacheFor,
    logQueries: profile.log,
    ...(outage ? { outage } : {}),
    ...(targets ? { targets } : {}),
  });
  let index: AppIndex | undefined;
  if (record && targets) {
    const reindexDef = reindexSaga({
      stores,
      targets,
      stepTimeoutMs: opts.stepTimeoutMs,
      outage,
      cacheEmbeddings,
      cacheFor,
      onBusy: writer.busyHolders.onBusy,
    });
    engine.register(reindexDef); // every process: recovery finishes a dead run's reindex sagas
    index = { record, targets, base, atStart, reindexDef, ...(mismatch !== undefined ? { mismatch } : {}) };
  }
  const readView = (): Promise<ReadView> => readViewOf(stores, embedder, targets);
  const search = async (query: string, limit = 5): Promise<SearchHit[]> => {
    const view = await readView();
    return searchDocuments(view.stores, view.embedder, query, limit, view.chunking);
  };
  // Every vector target the record names is swept (a lost owner's late write may land in any).
  const sweeper = new StaleWriteSweeper(stores, profile.log, {
    ...(targets ? { vectors: async () => (await targets.writers()).map((b) => b.store) } : {}),
  });
  engine.addHooks(sweeper.hooks);
  const retention = new Retention({ log: profile.log, retentionMs, warn: (line) => void process.stderr.write(`${line}\n`) });
  return {
    profile,
    stores,
    engine,
    writer,
    embedder,
    sweeper,
    waits,
    logWaits,
    retention,
    leaseMs,
    ...(index ? { index } : {}),
    search,
    readView,
    close: async (o = {}) => {
      await retention.stop();
      await engine.close(o);
      await sweeper.drain();
      await profile.close();
    },
  };
}

/** APEX_LEASE_MS: how long a saga's claim lasts without renewal (tests use short ones). */
function leaseFromEnv(env: Env): number | undefined {
  // ConfigError (CONFIG_INVALID) naming the variable and range: the CLI prints it without a stack, exit 2.
  return intFromEnv(env, 'APEX_LEASE_MS', { min: 100, max: 3_600_000, unit: 'milliseconds' });
}

/** APEX_STORE_OUTAGE_BUDGET_MS: how long each step retries a store that is down (0: quick retries);
 * APEX_STORE_OUTAGE_BUDGET_STEPS: per step (config/outage-steps.ts). */
function outageFromEnv(env: Env): OutageBudgets | undefined {
  const ms = intFromEnv(env, 'APEX_STORE_OUTAGE_BUDGET_MS', OUTAGE_BUDGET_RANGE);
  const steps = outageStepsFromEnv(env, OUTAGE_BUDGET_RANGE);
  if (ms === undefined && steps === undefined) return undefined;
  return { ...(ms !== undefined ? { defaultMs: ms } : {}), ...(steps ? { steps } : {}) };
}
