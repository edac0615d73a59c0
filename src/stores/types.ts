// The store interfaces the sagas write through. One adapter per database implements one of them;
// the embedded stand-ins implement the same ones. See docs/stores.md and DESIGN "Data contract".
//
// Every write is idempotent (safe to repeat with the same arguments) and every removal succeeds
// when there is nothing to remove, because the saga engine may run either of them again after a
// crash ("maybe applied"). A document's content is versioned by its SHA-256 so that an update can
// write the new version beside the old one and a failed update can remove only what it wrote.

export type StoreName = 'postgres' | 'neo4j' | 'qdrant' | 'redis';

export interface Chunk {
  idx: number;
  text: string;
  /** Entity names mentioned by the chunk (deterministic extractor). */
  entities: string[];
  /** The chunk's embedding; its length is the collection's dimension. */
  embedding: number[];
}

/** One version of one document, as the ingest saga writes it. */
export interface DocumentVersion {
  docId: string;
  title: string;
  contentSha256: string;
  metadata: Record<string, unknown>;
  chunks: Chunk[];
  /**
   * The chunking version `chunks` were cut with (docs/documents.md "Chunkings"); absent: 1. PostgreSQL
   * and the graph store keep several chunkings of one version side by side (a re-chunking reindex
   * writes the new one beside the serving one); a vector collection holds its target's chunking only.
   */
  chunking?: number;
}

/** The chunking of a version (absent: version 1, the data contract before re-chunking). */
export function chunkingOf(v: { chunking?: number }): number {
  return v.chunking ?? 1;
}

/** Passed to every write: who writes, and the lease token that must still be current. */
export interface WriteContext {
  sagaId: string;
  fencingToken: number;
  signal?: AbortSignal;
}

export interface HealthReport {
  ok: boolean;
  /** e.g. "postgres 15.18 at 127.0.0.1:5432" or "pglite file .apex/postgres"; never a secret. */
  detail: string;
}

/** What a derived store holds for one document: which versions, how many chunks each. */
export interface StoredVersion {
  docId: string;
  contentSha256: string;
  chunkCount: number;
  /** Graph stores: the chunking of these chunks (one row per version and chunking), set only when
   * it is not 1 (absent: 1). Vector stores leave it out: a collection holds one chunking. */
  chunking?: number;
}

interface StoreLifecycle {
  readonly name: StoreName;
  /** Which engine implements it: "postgres", "pglite", "neo4j", "sqlite-graph", ... */
  readonly backend: string;
  /** Creates schema/collections when missing; idempotent. */
  connect(): Promise<void>;
  health(): Promise<HealthReport>;
  close(): Promise<void>;
  /** Schema the store needs that is missing or violated (issue 22): read by `verify`. Optional:
   * stores without a schema to lose (the embedded stand-ins, Redis) leave it out. */
  checkSchema?(): Promise<SchemaProblem[]>;
  /** Makes the schema whole again (merging duplicates first); returns what it did. By `repair`. */
  repairSchema?(): Promise<string[]>;
  /**
   * Reclaims the space (and the bytes) of deleted rows: `apex-memory vacuum` (docs/erasure.md).
   * `full`: rewrite the files (PostgreSQL VACUUM FULL: an exclusive lock per table meanwhile).
   * Returns what it did, in words. Absent where the store has nothing to do (Redis, Qdrant).
   */
  reclaim?(opts: { full: boolean }): Promise<string>;
}

/** A schema rule or collection missing, or nodes that a missing uniqueness rule let double. */
export interface SchemaProblem {
  kind: 'schema_missing' | 'duplicate_node';
  store: StoreName;
  /** What is missing or doubled: a rule or collection name, or `Label:"key"`. */
  key: string;
  detail: string;
}

export type IngestionStatus = 'pending' | 'committed' | 'failed' | 'deleting';

export interface DocumentRow {
  id: string;
  title: string;
  /** The current committed version; null until a version commits. */
  contentSha256: string | null;
  ingestionStatus: IngestionStatus;
  sagaId: string | null;
  metadata: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

/** A version in flight (written by an update or first ingest, not yet committed). */
export interface PendingVersion {
  docId: string;
  contentSha256: string;
  sagaId: string;
  title: string;
}

// PostgreSQL (and the PGlite stand-in), the system of record, split by concern: the saga steps'
// writes, the single-writer document lock, plain reads, and the batched reads of verify and repair.

/** The saga steps' writes. Every fenced one takes the document for ctx.sagaId (DocumentLocks). */
export interface RelationalWrites {
  /**
   * Writes `v` as a pending version: its chunks and a pending-version row. A new document gets a
   * `documents` row with ingestion_status 'pending'; an existing committed one keeps its committed
   * version visible (status stays 'committed'). Rejects with STORE_FENCED when a newer token of
   * the same saga has written. Returns the version committed when it ran (null: none).
   */
  putPending(v: DocumentVersion, ctx: WriteContext): Promise<{ previousSha: string | null }>;
  /** Compensation of putPending: removes that pending version and its chunks; a document that
   * never committed becomes 'failed' (row kept, no chunks). No-op when absent. */
  discardPending(docId: string, contentSha256: string, ctx: WriteContext, opts?: { release?: boolean }): Promise<void>;
  /**
   * The pivot: makes `contentSha256` the committed version (status 'committed'). Idempotent.
   * With `expectedPrevious` (null = no committed version yet), refuses with STORE_CONFLICT when
   * another writer committed a different version meanwhile (optimistic concurrency for updates).
   */
  commit(docId: string, contentSha256: string, ctx: WriteContext, expectedPrevious?: string | null): Promise<void>;
  /** Removes chunks of a superseded version (never the committed one), of every chunking. No-op when absent. */
  removeVersion(docId: string, contentSha256: string): Promise<void>;
  /**
   * Removes the chunks of one chunking of these documents (every version), and nothing else: a
   * re-chunking reindex's compensation (one document it holds) and `reindex --finish` (pages of
   * documents, the chunking no target names any more). Unfenced: the caller makes sure no saga can
   * still write that chunking of those documents. Returns how many chunk rows went.
   */
  dropChunking(docIds: readonly string[], chunking: number): Promise<number>;
  /** A saga's last write: removes `previousSha` (never the committed version) and releases. */
  finishVersion(docId: string, previousSha: string | null, ctx: WriteContext): Promise<void>;
  /** Delete saga: status -> 'deleting' (readers stop seeing it as committed); returns the row as it was. */
  markDeleting(docId: string, ctx: WriteContext): Promise<DocumentRow | undefined>;
  /** Compensation of markDeleting: back to 'committed' if it has a committed version; releases. */
  unmarkDeleting(docId: string, ctx: WriteContext): Promise<void>;
  /** Delete saga's pivot: removes the row this saga marked 'deleting' and all its chunks, and
   * releases. No-op when absent, and when the row is not (or no longer) this saga's 'deleting'
   * one: a repeat after the pivot applied must not remove a document later sagas re-created. */
  deleteDocument(docId: string, ctx: WriteContext): Promise<void>;
}

/**
 * The single-writer rule (docs/documents.md "Many sagas on one document"): every fenced write takes
 * the document for ctx.sagaId, or fails with STORE_BUSY while another saga holds it.
 */
export interface DocumentLocks {
  /** Takes (or confirms) the document for this saga; returns its row as committed now. */
  acquire(docId: string, ctx: WriteContext): Promise<DocumentRow | undefined>;
  /** Gives the document back (the compensation of a saga's first step ends with it). */
  release(docId: string, ctx: WriteContext): Promise<void>;
  /**
   * Runs `work` while no saga holds the document, keeping every saga out until it returns (for
   * sweeps and repairs); `free: false` with the holder when a saga holds it. `work` must not use
   * this store (it runs inside the store's transaction).
   */
  whileFree<T>(
    docId: string,
    work: (row: DocumentRow | undefined) => Promise<T>,
  ): Promise<{ free: true; value: T } | { free: false; holder: string }>;
  /** The saga holding the document, if any. */
  holderOf(docId: string): Promise<string | undefined>;
}

export interface RelationalReads {
  getDocument(docId: string): Promise<DocumentRow | undefined>;
  /** The chunks of one version (without embeddings) in one chunking (default 1), ordered by idx. */
  getChunks(docId: string, contentSha256: string, chunking?: number): Promise<Array<{ idx: number; text: string }>>;
  getPendingVersions(docId: string): Promise<PendingVersion[]>;
  /** Pages through all documents ordered by id (for verify). */
  listDocuments(afterId: string | null, limit: number): Promise<DocumentRow[]>;
}

/** Reads for verify, repair and metrics at scale (docs/stores.md "Batched reads"): one round trip
 * per page instead of several per document. */
export interface RelationalVerifyReads {
  /** Held documents, paged by id (verify: none may be left once no saga runs). */
  listHeld(afterId: string | null, limit: number): Promise<Array<{ docId: string; sagaId: string }>>;
  /** Documents with a version in flight, and since when the oldest has been (metrics). */
  pendingStats(): Promise<{ pending: number; oldestPendingAt: Date | null }>;
  /** Like listDocuments, with each row's committed chunk count (of `chunking`, default 1) and its
   * versions in flight. */
  inspectDocuments(afterId: string | null, limit: number, chunking?: number): Promise<DocumentInspection[]>;
  /** The status of each of `docIds` that has a row (absent: no row). */
  statusesOf(docIds: readonly string[]): Promise<Map<string, IngestionStatus>>;
}

/** A saga's document content, staged by the front before the saga begins (docs/erasure.md). */
export interface StagedContent {
  title: string;
  text: string;
  metadata: Record<string, unknown>;
}

export interface StagedFilter {
  docId?: string;
  /** Staged before this time. */
  before?: Date;
  /** Paging: saga ids after this one (byte order). */
  afterSagaId?: string;
}

export interface StagedRef {
  sagaId: string;
  docId: string;
  createdAt: Date;
  /** How long ago it was staged, by the database's clock (no skew with the caller's). */
  ageMs: number;
}

/**
 * Content by reference (docs/erasure.md): the saga log holds ids and hashes only; a saga's content
 * lives here (table saga_inputs) from before the saga begins until it ends. Unfenced: a row belongs
 * to one saga id, written once by the front and removed once the saga no longer needs it.
 */
export interface StagedInputs {
  /** Stages `content` for saga `sagaId` (of document `docId`); a repeat with the same id keeps the first. */
  stageInput(sagaId: string, docId: string, content: StagedContent): Promise<void>;
  /** The staged content of `sagaId`; undefined when never staged or already removed. */
  stagedInput(sagaId: string): Promise<{ docId: string; content: StagedContent } | undefined>;
  /** Removes the staged content of these sagas (no-op for absent ones). */
  dropStagedInputs(sagaIds: readonly string[]): Promise<number>;
  /** Staged rows (never their content) in saga-id order: of one document, older than `before`. */
  listStaged(filter: StagedFilter, limit: number): Promise<StagedRef[]>;
}

/** Rows naming one document in PostgreSQL's tables (verify --erased). */
export interface RelationalTraces {
  documents: number;
  versions: number;
  chunks: number;
  /** Staged saga content (saga_inputs). */
  staged: number;
  /** Write fences: ids and tokens only, kept on purpose (docs/stores.md). */
  fences: number;
  /** Chunk embeddings kept in the embedding cache for this document (embedding_uses rows). */
  embeddings: number;
}

/** The delete saga's audit record (ids only) and the check behind `verify --erased`. */
export interface ErasureRecords {
  /** The delete saga `sagaId` erased `docId` (its pivot applied); a later erasure replaces it. */
  recordErasure(docId: string, sagaId: string): Promise<void>;
  erasureOf(docId: string): Promise<{ sagaId: string; erasedAt: Date } | undefined>;
  tracesOf(docId: string): Promise<RelationalTraces>;
}

/** Which embedder made a cached vector: the model (Embedder.name) and its dimension. */
export interface EmbeddingModel {
  model: string;
  dimension: number;
}

/** The document version a chunk embedding is cached for (what keeps the entry alive). */
export interface EmbeddingUse {
  docId: string;
  contentSha256: string;
}

/**
 * The persistent embedding cache (tables embedding_cache and embedding_uses, docs/stores.md
 * "Embedding cache"): vectors keyed by (model, dimension, sha256 of the chunk text), each kept
 * alive by the document versions that use it. An entry exists only while a use names its hash, so
 * forgetting a document's uses erases every vector of its text that no other document uses.
 */
export interface EmbeddingCacheStore {
  /** Records that `use` needs these chunk hashes, then returns the cached vectors among them. */
  lookupEmbeddings(use: EmbeddingUse, model: EmbeddingModel, textSha256s: readonly string[]): Promise<Map<string, number[]>>;
  /** Stores vectors for `use` (an entry already there is kept) and records the use, in one transaction. */
  putEmbeddings(
    use: EmbeddingUse,
    model: EmbeddingModel,
    entries: ReadonlyArray<{ textSha256: string; embedding: readonly number[] }>,
  ): Promise<void>;
  /**
   * Removes the uses of one version of `docId` (every version with null), then the entries (of any
   * model) that no use is left for. Never an entry another document or version still uses.
   * With `heldBy`, only while that saga holds the document (document_locks; else nothing). Returns
   * how many entries went.
   */
  forgetEmbeddings(docId: string, contentSha256: string | null, opts?: { heldBy?: string }): Promise<number>;
}

/** The stored active index record (docs/reindex.md): opaque JSON here, interpreted by src/ingest/reindex. */
export interface StoredIndexState {
  version: number;
  state: unknown;
  updatedAt: Date;
}

/** The active index record, changed only by compare-and-set on its version. */
export interface IndexStateStore {
  readIndexState(): Promise<StoredIndexState | undefined>;
  /** Writes `state` when the stored version is `expectedVersion` (0: no record yet). Returns the
   * new version, or null when the record changed meanwhile (nothing written). */
  writeIndexState(expectedVersion: number, state: unknown): Promise<number | null>;
}

export function hasIndexState(store: object): store is IndexStateStore {
  const s = store as Partial<IndexStateStore>;
  return typeof s.readIndexState === 'function' && typeof s.writeIndexState === 'function';
}

/** PostgreSQL (and the PGlite stand-in): the system of record. */
export interface RelationalStore
  extends StoreLifecycle,
    RelationalWrites,
    DocumentLocks,
    RelationalReads,
    RelationalVerifyReads,
    StagedInputs,
    ErasureRecords,
    EmbeddingCacheStore {
  readonly name: 'postgres';
}

/** One document as verify sees it in PostgreSQL (RelationalStore.inspectDocuments). */
export interface DocumentInspection {
  row: DocumentRow;
  /** Chunks of the committed version (0 when there is none). */
  committedChunks: number;
  pendingVersions: PendingVersion[];
}

/** One page of a derived store's doc ids in the store's own order (may repeat ids across pages). */
export interface DocIdPage {
  docIds: string[];
  /** Opaque cursor for the next page; null when the scan is complete. */
  next: string | null;
}

/** Batched reads every derived store offers to verify (one round trip, or a few, per call). */
interface DerivedBatchReads {
  /**
   * Streams every doc id the store holds, a page at a time, with bounded memory on both sides.
   * Unlike listDocIds it needs no global order (Qdrant and Redis cannot page in id order).
   */
  scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage>;
}

/**
 * The writes of the derived stores of chunks (graph, vector), under one verb: a saga step writes a
 * version and its compensation removes it. Idempotent; removals succeed when nothing is there.
 */
export interface DerivedWrites {
  /** Graph: MERGE Document, its Chunks (id = docId:sha:idx, plus `@c<n>` for chunking n > 1) and
   * Entities with HAS_CHUNK / MENTIONS. Vector: one point per chunk, point id UUIDv5(`docId:sha:idx`).
   */
  writeVersion(v: DocumentVersion, ctx: WriteContext): Promise<void>;
  /** Removes that version's chunks, of every chunking (graph: and the Document node when no chunk is left). */
  removeVersion(docId: string, contentSha256: string, ctx?: WriteContext): Promise<void>;
  removeDocument(docId: string, ctx?: WriteContext): Promise<void>;
}

/** What verify and repair read from a derived store of chunks. */
export interface DerivedReads extends DerivedBatchReads {
  /** One row per version (graph stores: per version and chunking, `chunking` set when not 1). */
  listVersions(docId: string): Promise<StoredVersion[]>;
  /** listVersions of many documents in one call (absent documents contribute nothing). */
  versionsOf(docIds: readonly string[]): Promise<StoredVersion[]>;
  /** All doc ids present, for verify (paged by id). */
  listDocIds(afterId: string | null, limit: number): Promise<string[]>;
}

/** A fence node's key: one per (document, saga) that wrote or compensated (docs/stores.md, Fencing). */
export interface FenceRef {
  docId: string;
  sagaId: string;
}

/** A fence as the sweep sees it: how long ago its saga last wrote there (the store's clock). */
export interface StoredFence extends FenceRef {
  ageMs: number;
  /** Opaque stamp of the last write (store clock, ms): a drop skips the fence if it moved on. */
  writtenAt: number;
}

/** Neo4j (and the SQLite graph stand-in). */
export interface GraphStore extends StoreLifecycle, DerivedWrites, DerivedReads {
  readonly name: 'neo4j';
  /** Removes the chunk nodes of one chunking of these documents (every version; their mentions,
   * entities left unmentioned, a Document left without chunks); see RelationalWrites.dropChunking. */
  dropChunking(docIds: readonly string[], chunking: number): Promise<number>;
  entities(docId: string, contentSha256: string): Promise<string[]>;
  /** Fences in (docId, sagaId) order after `after` (the fence sweep pages with it). Absent: not fenced. */
  scanFences?(after: FenceRef | null, limit: number): Promise<StoredFence[]>;
  /** Removes the fences given, except any written again since it was scanned; returns how many went. */
  dropFences?(fences: readonly StoredFence[]): Promise<number>;
}

export interface VectorHit {
  docId: string;
  contentSha256: string;
  idx: number;
  score: number;
}

/** Collection management and aliases (issue 25, docs/reindex.md): the reindex creates a collection
 * beside the live one, and the switch moves an alias atomically. */
export interface VectorCollections {
  /** Creates `name` with vectors of `dimension` (the store's layout settings) when missing; idempotent.
   * Rejects with STORE_CONFLICT-like typed error when it exists with another dimension. */
  ensureCollection(name: string, dimension: number): Promise<void>;
  /** Drops the collection; no-op when absent. Refuses (typed error) while an alias points at it. */
  dropCollection(name: string): Promise<void>;
  /** Every collection with its vector dimension and point count. */
  listCollections(): Promise<Array<{ name: string; dimension: number; points: number }>>;
  /** Points `alias` at `collection` in ONE atomic request (delete_alias + create_alias actions). */
  setAlias(alias: string, collection: string): Promise<void>;
  /** No-op when absent. */
  deleteAlias(alias: string): Promise<void>;
  listAliases(): Promise<Array<{ alias: string; collection: string }>>;
  /** A VectorStore of the same client and settings bound to another collection or alias name,
   * writing vectors of `dimension`. Its connect() creates nothing when `name` is an alias. */
  withCollection(name: string, dimension: number): VectorStore & VectorCollections;
}

/** Qdrant (and the SQLite vector stand-in). Every one manages collections and aliases too. */
export interface VectorStore extends StoreLifecycle, DerivedWrites, DerivedReads, VectorCollections {
  readonly name: 'qdrant';
  readonly dimension: number;
  search(vector: number[], limit: number): Promise<VectorHit[]>;
}

export interface CacheEntry {
  docId: string;
  title: string;
  contentSha256: string;
  chunkCount: number;
  metadata: Record<string, unknown>;
}

/** Redis (and the SQLite cache stand-in). Key `apex:{<id length>:<id>}:doc` (src/stores/redis/keys.ts). */
export interface CacheStore extends StoreLifecycle, DerivedBatchReads {
  readonly name: 'redis';
  put(entry: CacheEntry, ctx: WriteContext): Promise<void>;
  /** Removes the entry only if it holds `contentSha256` (never a newer version's entry);
   * with null, removes whatever is there. */
  remove(docId: string, contentSha256: string | null, ctx?: WriteContext): Promise<void>;
  get(docId: string): Promise<CacheEntry | undefined>;
  /** get of many documents in one round trip (absent entries are left out). */
  getMany(docIds: readonly string[]): Promise<CacheEntry[]>;
  listDocIds(afterId: string | null, limit: number): Promise<string[]>;
}

export interface StoreSet {
  postgres: RelationalStore;
  neo4j: GraphStore;
  qdrant: VectorStore;
  redis: CacheStore;
}
