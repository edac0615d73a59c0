// A reindex in progress (docs/reindex.md) in the deterministic simulation (sim-world.ts) and the
// exhaustive scopes (sim-scope.ts): the active index record in memory (the PostgreSQL row's
// compare-and-set contract, memory-index-state.ts), a second collection of the model vector store
// (SimVector.withCollection: its own dimension, the same server), and per process the real
// VectorTargets, so that the real dual writes (ingest qdrant_write, cleanup_previous, delete
// qdrant_delete and their compensations) and the real reindex saga run against them.
//
//   migrating  active = apex_chunks (the world's dimension), next = apex_chunks_v2 (+4)
//   switched   active = apex_chunks_v2, previous = apex_chunks (still dual-written)
//   starting   steady at first; the world starts the migration late (90% of its sagas; the real
//              `reindex` start, src/ingest/reindex/control.ts), and the writer processes keep the
//              record they read until they are replaced (a crash): their sagas write the old
//              target only, and leave a replaced version in the next one. That is the reindex
//              loop's business (docs/reindex.md, "Dual writes"), so only its fixed point is
//              checked there. (The product caches 1 s; staleness of any length must end right
//              at the fixed point, and a short one left the loop nothing to do in these worlds.)
//
// In the other two the record does not change while a world runs: a saga's cached record is then
// never older than the state, so "no orphan and no stale version in the next target" holds at
// every quiescent point, not only after the reindex loop's fixed point.
import assert from 'node:assert/strict';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { IndexRecord } from '../../src/ingest/reindex/record.js';
import { VectorTargets, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { compareTarget } from '../../src/ingest/reindex/compare.js';
import { runReindex, type ReindexSummary } from '../../src/ingest/reindex/run.js';
import { reindexSaga, type ReindexInput } from '../../src/ingest/sagas/reindex-saga.js';
import { verifyStores, type VerifyReport } from '../../src/ingest/verify.js';
import { initialState, type IndexState, type IndexTarget } from '../../src/ingest/reindex/state.js';
import { startReindex } from '../../src/ingest/reindex/control.js';
import type { SagaDefinition, SagaEngine } from '../../src/saga/index.js';
import type { StoreSet, VectorStore } from '../../src/stores/types.js';
import { MemoryIndexState } from './memory-index-state.js';
import { clearHolder } from '../../src/ingest/holder.js';

export type SimReindexPhase = 'migrating' | 'switched' | 'starting';
export const SIM_BASE = 'apex_chunks';
export const SIM_NEXT = 'apex_chunks_v2';
/** The new target's dimension is the old one's plus this (another embedder: other vectors). */
const DIMENSION_STEP = 4;
/** How long a process acts on a record it read, in `starting` worlds (virtual ms): for good. */
const STARTING_CACHE_MS = 3_600_000;

export class SimIndex {
  readonly store = new MemoryIndexState();
  readonly old: IndexTarget;
  readonly neu: IndexTarget;

  constructor(
    readonly phase: SimReindexPhase,
    oldDimension: number,
  ) {
    this.old = { ...targetOfEmbedder(new HashingEmbedder(oldDimension)), collection: SIM_BASE };
    this.neu = { ...targetOfEmbedder(new HashingEmbedder(oldDimension + DIMENSION_STEP)), collection: SIM_NEXT };
  }

  /** The target reads use: the processes open their vector store on it (src/app.ts). */
  get active(): IndexTarget {
    return this.phase === 'switched' ? this.neu : this.old;
  }
  /** The other target the record names (next while migrating, previous once switched). */
  get other(): IndexTarget {
    return this.phase === 'switched' ? this.old : this.neu;
  }

  /** The record as a world begins. */
  state(): IndexState {
    if (this.phase === 'starting') return initialState(this.old);
    return this.phase === 'migrating'
      ? { phase: 'migrating', active: this.old, next: this.neu, previous: null, generation: 2 }
      : { phase: 'switched', active: this.neu, next: null, previous: this.old, generation: 2 };
  }

  /** `starting`: the operator's `reindex` start (the real transition; a re-run resumes). */
  async start(stores: StoreSet): Promise<void> {
    const record = new IndexRecord(this.store);
    const { embedder, model, dimension, chunking } = this.neu;
    const after = await startReindex({ stores, record, vectors: stores.qdrant, base: SIM_BASE }, { embedder, model, dimension, chunking });
    assert.equal(after.state.next?.collection, SIM_NEXT, 'the started migration builds another collection');
  }

  /**
   * The model stores as the processes see them: Qdrant bound to the active collection. `models`
   * are the fresh model stores (their vector store bound to SIM_BASE at the old dimension).
   */
  bindActive(models: StoreSet): StoreSet {
    if (this.phase !== 'switched') return models;
    return { ...models, qdrant: models.qdrant.withCollection(SIM_NEXT, this.neu.dimension) };
  }

  /** Writes the record and creates the new collection (as `reindex` start did). Not a fault point. */
  async install(stores: StoreSet): Promise<void> {
    assert.notEqual(await this.store.writeIndexState(0, this.state()), null, 'the index record was written already');
    if (this.phase !== 'starting') await stores.qdrant.ensureCollection(SIM_NEXT, this.neu.dimension);
  }

  /** This process's embedder: the active target's (a process with another refuses to start). */
  embedder(): HashingEmbedder {
    return new HashingEmbedder(this.active.dimension);
  }

  /** A process's view of the record (its own cache, on the virtual clock) and its targets. */
  targets(stores: StoreSet, now: () => number): VectorTargets {
    // `starting`: the record stays cached (see above), so that sagas after the start act on a
    // steady record: with 1 s (the product's), a reindex saga's fresh read in the same process,
    // crash replacements and later sagas repaired everything before the loop ran.
    const record = new IndexRecord(this.store, { now, ...(this.phase === 'starting' ? { cacheMs: STARTING_CACHE_MS } : {}) });
    return new VectorTargets(record, {
      primary: stores.qdrant,
      primaryCollection: this.active.collection,
      embedder: this.embedder(),
      env: {},
    });
  }

  /** The other target's collection as seen through `stores` (its vector store's collections). */
  otherStore(stores: StoreSet): VectorStore {
    return stores.qdrant.withCollection(this.other.collection, this.other.dimension);
  }

  /**
   * verify as `apex-memory verify` runs it during the reindex: the active target in full, the
   * other one in full once switched (previous is dual-written), while migrating for orphans and
   * stale versions only (what next still lacks is the reindex loop's work).
   */
  verify(stores: StoreSet, complete = this.phase === 'switched'): Promise<VerifyReport> {
    if (this.phase === 'starting' && !complete) return verifyStores(stores); // next: the loop's business
    return verifyStores(stores, { extraVectors: [{ collection: this.other.collection, store: this.otherStore(stores), complete }] });
  }
}

export function reindexDefinition(stores: StoreSet, targets: VectorTargets): SagaDefinition<ReindexInput, Record<string, unknown>> {
  return reindexSaga({ stores, targets, stepTimeoutMs: 3_600_000 });
}

/**
 * Once every saga ended: the reindex loop as the CLI runs it, to its fixed point (migrating only),
 * then the next target against PostgreSQL and verify with both targets in full. Returns the loop's
 * summary (undefined once switched: there is no next to build, previous is checked in full).
 * `until` drives the virtual clock while the loop runs.
 */
export async function finalPass(
  index: SimIndex,
  proc: { stores: StoreSet; engine: SagaEngine; targets: VectorTargets; reindexDef: SagaDefinition<ReindexInput, Record<string, unknown>> },
  checked: StoreSet,
  until: <T>(p: Promise<T>) => Promise<T>,
  label: string,
): Promise<ReindexSummary | undefined> {
  let summary: ReindexSummary | undefined;
  if (index.phase !== 'switched') {
    if (index.phase === 'starting') await index.start(checked); // a re-run resumes; a world too short to start it starts it here
    const next = proc.targets.bind(index.neu);
    summary = await until(runReindex({ stores: proc.stores, engine: proc.engine, def: proc.reindexDef }, next, { concurrency: 2 }));
    assert.deepEqual(summary.failed, [], `the reindex loop failed documents (${label})`);
    assert.equal(summary.unsettled, 0, `the reindex loop reached no fixed point (${label})`);
    const cmp = await compareTarget(checked, index.otherStore(checked), { dimension: index.neu.dimension, collection: SIM_NEXT });
    assert.deepEqual(cmp.problems, [], `the next target after the loop (${label})`);
  }
  const report = await index.verify(checked, true);
  assert.deepEqual(report.violations, [], `verify of both targets after the loop (${label})`);
  return summary;
}

/** One reindex saga on `docId` as the reindex loop starts it (src/ingest/reindex/run.ts): the
 * document's holder is brought to its end first, then the saga (keyed by the document). */
export async function reindexOne(
  stores: StoreSet,
  engine: SagaEngine,
  def: SagaDefinition<ReindexInput, Record<string, unknown>>,
  docId: string,
  sagaId: string,
): Promise<unknown> {
  await clearHolder(stores.postgres, engine, docId).catch(() => undefined); // the saga waits otherwise
  return engine.execute(def, { docId }, { sagaId, key: docId });
}
