// Which vector collections a process writes and reads, per the active index record (state.ts):
// writes go to every target the record names (dual writes while a reindex runs or is switched but
// not finished), reads to the active one, each with the embedder that target was built with.
//
// Why our own reads follow the record rather than the `<base>_live` alias: the query vector must
// have the collection's dimension, and the record names the embedder together with the
// collection; the alias (moved on the server at --switch) cannot carry the embedder. The alias is
// for readers outside this process (docs/reindex.md).
import { HashingEmbedder, embedderFromEnv, type Embedder, type EmbedderEnv } from '../embedder.js';
import type { StoreSet, VectorStore } from '../../stores/types.js';
import { CHUNKING_VERSION, ReindexError, describeTarget, writeTargets, type IndexState, type IndexTarget } from './state.js';
import type { IndexRecord } from './record.js';

export interface TargetBinding {
  target: IndexTarget;
  store: VectorStore;
  embedder: Embedder;
}

/** The target an embedder builds (kind, model, dimension), without a collection. */
export function targetOfEmbedder(e: Embedder): Omit<IndexTarget, 'collection'> {
  const openai = /^openai:([^@]*)@/.exec(e.name);
  if (openai) return { embedder: 'openai', model: openai[1] ?? '', dimension: e.dimension, chunking: CHUNKING_VERSION };
  if (e.name.startsWith('hashing-')) return { embedder: 'hashing', model: 'hashing', dimension: e.dimension, chunking: CHUNKING_VERSION };
  return { embedder: e.name, model: e.name, dimension: e.dimension, chunking: CHUNKING_VERSION };
}

/** An embedder for `target` (connection settings of the OpenAI-compatible one from the env). */
export function embedderForTarget(target: IndexTarget, env: EmbedderEnv): Embedder {
  if (target.embedder === 'hashing') return new HashingEmbedder(target.dimension);
  if (target.embedder === 'openai') {
    return embedderFromEnv({ ...env, EMBEDDER: 'openai', EMBEDDING_MODEL: target.model, EMBEDDING_DIMENSION: String(target.dimension) });
  }
  throw new ReindexError('INDEX_RECORD_INVALID', `the active index record names an unknown embedder ${JSON.stringify(target.embedder)}`);
}

/**
 * Refuses a process whose embedder settings contradict the active target: its vectors would not
 * match the collection it serves (wrong dimension, or another model's space).
 */
export function checkProcessEmbedder(state: IndexState, e: Embedder): void {
  const mine = targetOfEmbedder(e);
  const a = state.active;
  if (mine.embedder === a.embedder && mine.model === a.model && mine.dimension === a.dimension) return;
  const hint =
    state.phase === 'switched' ? ' (a reindex was switched to it: set the new settings, or `apex-memory reindex --rollback`)' : '';
  throw new ReindexError(
    'INDEX_MISMATCH',
    `EMBEDDER=${mine.embedder}${mine.embedder === 'openai' ? ` EMBEDDING_MODEL=${mine.model}` : ''} EMBEDDING_DIMENSION=${mine.dimension} contradict the active index recorded in PostgreSQL: ${describeTarget(a)}${hint}. Set EMBEDDER/EMBEDDING_MODEL/EMBEDDING_DIMENSION to the recorded values, or change the index with \`apex-memory reindex\``,
  );
}

export class VectorTargets {
  private readonly bound = new Map<string, TargetBinding>();

  constructor(
    readonly record: IndexRecord,
    private readonly opts: {
      /** The store this process opened (wiring), bound to `primaryCollection` with `embedder`. */
      primary: VectorStore;
      primaryCollection: string;
      embedder: Embedder;
      env: EmbedderEnv;
    },
  ) {}

  get primaryCollection(): string {
    return this.opts.primaryCollection;
  }

  /** The store and embedder of one target (the process's own store for its own collection). */
  bind(target: IndexTarget): TargetBinding {
    const o = this.opts;
    if (target.collection === o.primaryCollection && target.dimension === o.primary.dimension) {
      return { target, store: o.primary, embedder: o.embedder };
    }
    const key = `${target.collection}/${target.dimension}/${target.model}`;
    let b = this.bound.get(key);
    if (!b) {
      b = { target, store: o.primary.withCollection(target.collection, target.dimension), embedder: embedderForTarget(target, o.env) };
      this.bound.set(key, b);
    }
    return b;
  }

  /**
   * Every target writes must reach now, the active one first (docs/reindex.md "Dual writes"): the
   * record's targets, not the collection this process opened. A process started before a
   * `--switch` thus stops writing the old collection at `--finish` (a Qdrant write to a missing
   * collection creates it again, so writing it would bring a retired collection back for good).
   */
  async writers(): Promise<TargetBinding[]> {
    const { state } = await this.record.current();
    return writeTargets(state).map((t) => this.bind(t));
  }

  /** The write targets besides the active one (verify and erasure check them beside it). */
  async others(): Promise<TargetBinding[]> {
    const { state } = await this.record.current();
    return writeTargets(state)
      .filter((t) => t.collection !== state.active.collection)
      .map((t) => this.bind(t));
  }

  /** Where reads go: the active target. */
  async reader(): Promise<TargetBinding> {
    return this.bind((await this.record.current()).state.active);
  }

  /** The target being built (`next`), if a reindex runs. */
  async next(): Promise<TargetBinding | undefined> {
    const n = (await this.record.current()).state.next;
    return n ? this.bind(n) : undefined;
  }
}

/** The stores as reads and checks see them now: Qdrant bound to the active target (docs/reindex.md). */
export interface ReadView {
  stores: StoreSet;
  /** The embedder the active target's vectors came from (query vectors, repair's rewrites). */
  embedder: Embedder;
  /** The active target's chunking: what reads name and verify counts. */
  chunking: number;
}

/** The read view now: the active target's collection, embedder and chunking per the record. */
export async function readViewOf(stores: StoreSet, embedder: Embedder, targets: VectorTargets | undefined): Promise<ReadView> {
  if (!targets) return { stores, embedder, chunking: CHUNKING_VERSION };
  const r = await targets.reader();
  return { stores: r.store === stores.qdrant ? stores : { ...stores, qdrant: r.store }, embedder: r.embedder, chunking: r.target.chunking };
}
