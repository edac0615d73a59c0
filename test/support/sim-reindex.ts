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
//   switching  migrating at first; mid-world the operator runs the loop, verify and `--switch`
//              (sim-reindex-ops.ts); the writer processes keep the record they read before it
//   rollback   the same, then `--rollback` under traffic
//   rechunk-*  migrating, switched, switching with a target of another chunking (chunking 2:
//              SIM_CHUNKING) as well as another dimension
//
// In `migrating` and `switched` the record does not change while a world runs: a saga's cached
// record is then never older than the state, so "no orphan and no stale version in the next
// target" holds at every quiescent point, not only after the reindex loop's fixed point. A switch
// or a rollback does not change which collections the writes reach (both targets, either way), so
// that check holds in those worlds too.
import assert from 'node:assert/strict';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { IndexRecord } from '../../src/ingest/reindex/record.js';
import { VectorTargets, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { compareTarget } from '../../src/ingest/reindex/compare.js';
import { runReindex, type ReindexSummary } from '../../src/ingest/reindex/run.js';
import { reindexSaga, type ReindexInput } from '../../src/ingest/sagas/reindex-saga.js';
import { verifyStores, type VerifyReport } from '../../src/ingest/verify.js';
import { initialState, parseState, type IndexState, type IndexTarget } from '../../src/ingest/reindex/state.js';
import { finishReindex, startReindex } from '../../src/ingest/reindex/control.js';
import type { SagaDefinition, SagaEngine } from '../../src/saga/index.js';
import type { StoreSet, VectorStore } from '../../src/stores/types.js';
import { MemoryIndexState } from './memory-index-state.js';
import { clearHolder } from '../../src/ingest/holder.js';

/**
 * What a world's record does: stays `migrating` or `switched`; `starting` (above); `switching`
 * (migrating; mid-world the operator runs the reindex loop, verify and `--switch`, sim-reindex-ops.ts);
 * `rollback` (the same switch, then `--rollback` later, under traffic). `rechunk-*`: the same with a
 * target of another chunking (docs/reindex.md "Re-chunking").
 */
export const SIM_REINDEX_PHASES = [
  'migrating',
  'switched',
  'starting',
  'switching',
  'rollback',
  'rechunk-migrating',
  'rechunk-switched',
  'rechunk-switching',
] as const;
/** `finishing`: the same switch, then `--finish` under traffic (sim-reindex-ops.ts). */
export const SIM_FINISH_PHASES = ['finishing', 'rechunk-finishing'] as const;
export type SimReindexPhase = (typeof SIM_REINDEX_PHASES)[number] | (typeof SIM_FINISH_PHASES)[number];
export const SIM_BASE = 'apex_chunks';
export const SIM_NEXT = 'apex_chunks_v2';
/** The new target's dimension is the old one's plus this (another embedder: other vectors). */
const DIMENSION_STEP = 4;
/** How long a process acts on a record it read, in `starting`, `switching` and `rollback` worlds
 * (virtual ms): for good, until it is replaced (a crash). */
const STARTING_CACHE_MS = 3_600_000;
/** Re-chunking worlds: chunking 2 cuts every paragraph of the world's texts (sim-world.ts) apart,
 * chunking 1 keeps a document in one chunk: the two differ in chunk counts. */
export const SIM_CHUNKING = { targetChars: 64, maxChars: 96 } as const;

export class SimIndex {
  readonly store = new MemoryIndexState();
  readonly old: IndexTarget;
  readonly neu: IndexTarget;
  /** The target of another chunking (rechunk-* worlds). */
  readonly rechunk: boolean;
  /** The record as it is now (the world's operator is the only one to change it). */
  live: IndexState;

  constructor(
    readonly phase: SimReindexPhase,
    oldDimension: number,
  ) {
    this.rechunk = phase.startsWith('rechunk-');
    this.old = { ...targetOfEmbedder(new HashingEmbedder(oldDimension)), collection: SIM_BASE };
    this.neu = {
      ...targetOfEmbedder(new HashingEmbedder(oldDimension + DIMENSION_STEP)),
      collection: SIM_NEXT,
      ...(this.rechunk ? { chunking: 2 } : {}),
    };
    this.live = this.state();
  }

  /** The world's plan without the re-chunking: what the record does. */
  get kind(): 'migrating' | 'switched' | 'starting' | 'switching' | 'rollback' | 'finishing' {
    const k = this.phase.replace(/^rechunk-/, '');
    return k === 'switched' || k === 'starting' || k === 'switching' || k === 'rollback' || k === 'finishing' ? k : 'migrating';
  }
  /** After `--finish`: steady on the new target, the old one dropped. */
  get finished(): boolean {
    return this.kind === 'finishing' && this.live.phase === 'steady';
  }

  /** The target reads use now: processes started now open their vector store on it (src/app.ts). */
  get active(): IndexTarget {
    return this.live.active;
  }
  /** The other target (next while migrating, previous once switched): the world's, not the
   * record's, so that a record that forgot it is caught by the checks of that target. */
  get other(): IndexTarget {
    return this.active.collection === this.neu.collection ? this.old : this.neu;
  }
  get switched(): boolean {
    return this.live.phase === 'switched';
  }

  /** The record as a world begins. */
  state(): IndexState {
    if (this.kind === 'starting') return initialState(this.old);
    const chunkings = this.rechunk ? { chunkings: { '2': { ...SIM_CHUNKING } } } : {};
    return this.kind === 'switched'
      ? { phase: 'switched', active: this.neu, next: null, previous: this.old, generation: 2, ...chunkings }
      : { phase: 'migrating', active: this.old, next: this.neu, previous: null, generation: 2, ...chunkings };
  }

  /** Reads the record again after the operator changed it. */
  async refresh(): Promise<IndexState> {
    const raw = await this.store.readIndexState();
    if (!raw) throw new Error('the simulated index record is missing');
    this.live = parseState(raw.state);
    return this.live;
  }

  /** `starting`: the operator's `reindex` start (the real transition; a re-run resumes). */
  async start(stores: StoreSet): Promise<void> {
    const record = new IndexRecord(this.store);
    const { embedder, model, dimension, chunking } = this.neu;
    const after = await startReindex({ stores, record, vectors: stores.qdrant, base: SIM_BASE }, { embedder, model, dimension, chunking });
    assert.equal(after.state.next?.collection, SIM_NEXT, 'the started migration builds another collection');
    await this.refresh();
  }

  /**
   * The model stores bound to the active collection, as a process started now opens them.
   * `models`: the world's stores, whose vector store is bound to the collection active when the
   * world began (SIM_BASE at the old dimension unless `switched`).
   */
  bindActive(models: StoreSet, boundTo = SIM_BASE): StoreSet {
    const a = this.active;
    if (a.collection === boundTo) return models;
    return { ...models, qdrant: models.qdrant.withCollection(a.collection, a.dimension) };
  }

  /** Writes the record and creates the new collection (as `reindex` start did). Not a fault point. */
  async install(stores: StoreSet): Promise<void> {
    assert.notEqual(await this.store.writeIndexState(0, this.state()), null, 'the index record was written already');
    if (this.kind !== 'starting') await stores.qdrant.ensureCollection(SIM_NEXT, this.neu.dimension);
    await this.refresh();
  }

  /** This process's embedder: the active target's (a process with another refuses to start). */
  embedder(): HashingEmbedder {
    return new HashingEmbedder(this.active.dimension);
  }

  /**
   * A process's view of the record (its own cache, on the virtual clock) and its targets;
   * `stores` are bound to the active collection (bindActive). `cacheMs`: the product's by default.
   */
  targets(stores: StoreSet, now: () => number, cacheMs?: number): VectorTargets {
    // `starting`, `switching`, `rollback`: the writers keep the record they read (see above), so
    // that sagas after a transition act on the record before it; with 1 s (the product's), the
    // reindex saga's fresh reads, crash replacements and later sagas repaired everything first.
    const stale = this.kind === 'starting' || this.kind === 'switching' || this.kind === 'rollback';
    // `finishing`: the product's cache, which `--finish` waits out twice before it drops anything.
    const ms = cacheMs ?? (stale ? STARTING_CACHE_MS : undefined);
    const record = new IndexRecord(this.store, { now, ...(ms !== undefined ? { cacheMs: ms } : {}) });
    return new VectorTargets(record, {
      primary: stores.qdrant,
      primaryCollection: this.active.collection,
      embedder: this.embedder(),
      env: {},
    });
  }

  /** A target's collection as seen through `stores` (its vector store's collections). */
  storeOf(stores: StoreSet, t: IndexTarget): VectorStore {
    return stores.qdrant.withCollection(t.collection, t.dimension);
  }
  /** The other target's collection as seen through `stores`. */
  otherStore(stores: StoreSet): VectorStore {
    return this.storeOf(stores, this.other);
  }

  /**
   * verify as `apex-memory verify` runs it during the reindex, in a process started now: the
   * active target in full (its chunking), the other one in full once switched (previous is
   * dual-written), while migrating for orphans and stale versions only (what next still lacks is
   * the reindex loop's work). `stores`: the world's, bound as it began.
   */
  verify(stores: StoreSet, complete = this.switched, boundTo = this.state().active.collection): Promise<VerifyReport> {
    const own = this.bindActive(stores, boundTo);
    const chunking = this.active.chunking;
    if (this.kind === 'starting' && !complete && this.live.phase !== 'switched') return verifyStores(own, { chunking }); // next: the loop's business
    if (this.finished) return verifyStores(own, { chunking }); // nothing else is named any more
    const o = this.other;
    return verifyStores(own, {
      chunking,
      extraVectors: [{ collection: o.collection, store: this.storeOf(stores, o), complete, chunking: o.chunking }],
    });
  }
}

export function reindexDefinition(stores: StoreSet, targets: VectorTargets): SagaDefinition<ReindexInput, Record<string, unknown>> {
  return reindexSaga({ stores, targets, stepTimeoutMs: 3_600_000 });
}

/**
 * Once every saga ended: the reindex loop as the CLI runs it, to its fixed point (while migrating),
 * then the next target against PostgreSQL (with a new chunking, the graph's nodes of it too) and
 * verify with both targets in full. Returns the loop's summary (undefined once switched: there is
 * no next to build, previous is checked in full). `until` drives the virtual clock while the loop
 * runs; `proc` is a process started now (bound to the active collection).
 */
export async function finalPass(
  index: SimIndex,
  proc: { stores: StoreSet; engine: SagaEngine; targets: VectorTargets; reindexDef: SagaDefinition<ReindexInput, Record<string, unknown>> },
  checked: StoreSet,
  until: <T>(p: Promise<T>) => Promise<T>,
  label: string,
  sagaIds?: () => string,
  sleep?: (ms: number) => Promise<void>,
  /** The world kept a process on a record read before --finish (WorldOptions.finishStale). */
  stale = false,
): Promise<ReindexSummary | undefined> {
  let summary: ReindexSummary | undefined;
  if (index.kind === 'starting' && index.live.phase === 'steady') await index.start(checked); // a world too short to start it starts it here
  if (index.finished) {
    // Nothing of the old target is left: its collection (a late write of a process acting on a
    // record cached before --finish must not bring it back), and with a re-chunking its chunking.
    let names = (await checked.qdrant.listCollections()).map((c) => c.name);
    if (stale && sleep) {
      // A write long after its record read brought the dropped collection back, and the retired
      // chunking's rows and nodes (the window docs/reindex.md names): a re-run of --finish
      // removes them.
      const deps = { stores: checked, record: new IndexRecord(index.store), vectors: checked.qdrant, base: SIM_BASE, sleep };
      await until(finishReindex(deps));
      names = (await checked.qdrant.listCollections()).map((c) => c.name);
    }
    assert.deepEqual(names, [SIM_NEXT], `collections after --finish (${label})`);
    assert.equal(index.live.retired, undefined, `retired collections left in the record (${label})`);
    assert.equal(index.live.retiredChunkings, undefined, `retired chunkings left in the record (${label})`);
    if (index.rechunk) {
      for (const d of await checked.postgres.inspectDocuments(null, 1_000, index.old.chunking))
        assert.equal(d.committedChunks, 0, `${d.row.id} keeps chunks of the retired chunking (${label})`);
      const nodes = await checked.neo4j.versionsOf(Array.from({ length: 64 }, (_, i) => `sim-${i}`));
      assert.deepEqual(
        nodes.filter((v) => (v.chunking ?? 1) === index.old.chunking),
        [],
        `graph nodes of the retired chunking (${label})`,
      );
    }
  } else if (!index.switched) {
    const next = proc.targets.bind(index.neu);
    const activeChunking = index.active.chunking;
    summary = await until(
      runReindex({ stores: proc.stores, engine: proc.engine, def: proc.reindexDef }, next, {
        concurrency: 2,
        activeChunking,
        ...(sagaIds ? { sagaIds } : {}),
      }),
    );
    assert.deepEqual(summary.failed, [], `the reindex loop failed documents (${label})`);
    assert.equal(summary.unsettled, 0, `the reindex loop reached no fixed point (${label})`);
    const k = index.neu.chunking;
    const cmp = await compareTarget(checked, index.storeOf(checked, index.neu), {
      dimension: index.neu.dimension,
      collection: SIM_NEXT,
      chunking: k,
      ...(k !== activeChunking ? { graph: checked.neo4j } : {}),
    });
    assert.deepEqual(cmp.problems, [], `the next target after the loop (${label})`);
  }
  const report = await index.verify(checked, true);
  assert.deepEqual(report.violations, [], `verify of both targets after the loop (${label})`);
  if (index.rechunk && !index.finished) {
    // The two chunkings differ (else the checks above could not tell them apart).
    let differ = 0;
    for (const d of await checked.postgres.inspectDocuments(null, 1_000, index.neu.chunking)) {
      const sha = d.row.ingestionStatus === 'committed' ? d.row.contentSha256 : null;
      if (sha !== null && d.committedChunks !== (await checked.postgres.getChunks(d.row.id, sha, index.old.chunking)).length) differ++;
    }
    assert.ok(differ > 0, `no committed document whose chunkings differ in chunk count (${label})`);
  }
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
