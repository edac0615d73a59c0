// In-memory model stores for the deterministic simulation (test/unit/sim-deterministic.test.ts).
// They model the store CONTRACT (src/stores/types.ts, docs/stores.md), not any database: the
// versioned data, fencing tokens (PostgreSQL, Neo4j, Redis fence; Qdrant does not, as the real
// one cannot), and the single-writer rule (document_locks, STORE_BUSY, whileFree), with the same
// statement order as src/stores/postgres/sql-store.ts. Every call is atomic: each method checks
// everything that can refuse it before it changes anything (a transaction that rolls back).
import { StoreError } from '../../src/stores/errors.js';
import { DocumentBusyError } from '../../src/stores/postgres/locks.js';
import { MemoryEmbeddingCache } from './memory-embedding-cache.js';
import { chunkingOf } from '../../src/stores/types.js';
import type {
  CacheEntry,
  CacheStore,
  DocIdPage,
  DocumentInspection,
  DocumentRow,
  DocumentVersion,
  EmbeddingModel,
  EmbeddingUse,
  GraphStore,
  HealthReport,
  IngestionStatus,
  PendingVersion,
  RelationalStore,
  RelationalTraces,
  StagedContent,
  StagedFilter,
  StagedRef,
  StoreName,
  StoreSet,
  StoredVersion,
  VectorHit,
  VectorStore,
  WriteContext,
} from '../../src/stores/types.js';

const K = (a: string, b: string): string => `${a}\u0000${b}`;
/** A version's chunks of one chunking: chunking 1 keeps the plain key (digests as before chunkings). */
const CK = (docId: string, sha: string, chunking: number): string => (chunking === 1 ? K(docId, sha) : `${K(docId, sha)}\u0001${chunking}`);
/** The chunking a chunks key (CK) or a held-version key (SimDerived) names. */
const chunkingOfKey = (key: string): number => {
  const at = key.lastIndexOf('\u0001');
  return at < 0 ? 1 : Number(key.slice(at + 1));
};
const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const WHILE_FREE = 'apex:while-free';

/** Fences per (document, saga): a call with an older token than one seen is refused. */
class Fences {
  private readonly tokens = new Map<string, number>();
  constructor(private readonly store: StoreName) {}
  check(docId: string, ctx: WriteContext | undefined): () => void {
    if (!ctx) return () => undefined;
    const key = K(docId, ctx.sagaId);
    if ((this.tokens.get(key) ?? -1) > ctx.fencingToken) {
      throw new StoreError(this.store, 'STORE_FENCED', `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for ${docId}`);
    }
    return () => this.tokens.set(key, ctx.fencingToken);
  }
}

abstract class Lifecycle {
  abstract readonly name: StoreName;
  readonly backend = 'sim-model';
  async connect(): Promise<void> {}
  async health(): Promise<HealthReport> {
    return { ok: true, detail: 'sim model' };
  }
  async close(): Promise<void> {}
}

interface Doc {
  row: DocumentRow;
  token: number;
}
interface Ver {
  title: string;
  metadata: Record<string, unknown>;
  sagaId: string;
  token: number;
  seq: number;
}

export class SimRelational extends Lifecycle implements RelationalStore {
  readonly name = 'postgres' as const;
  private readonly docs = new Map<string, Doc>();
  private readonly versions = new Map<string, Map<string, Ver>>();
  private readonly chunks = new Map<string, string[]>();
  private readonly locks = new Map<string, string>();
  private readonly fences = new Fences('postgres');
  private seq = 0;
  private readonly staged = new Map<string, { docId: string; content: StagedContent; createdAt: Date }>();
  constructor(private readonly now: () => number) {
    super();
  }

  // Content by reference (src/stores/postgres/staged-inputs.ts): unfenced rows keyed by saga id.
  async stageInput(sagaId: string, docId: string, content: StagedContent): Promise<void> {
    if (!this.staged.has(sagaId)) this.staged.set(sagaId, { docId, content: structuredClone(content), createdAt: new Date(this.now()) });
  }
  async stagedInput(sagaId: string): Promise<{ docId: string; content: StagedContent } | undefined> {
    const r = this.staged.get(sagaId);
    return r ? { docId: r.docId, content: structuredClone(r.content) } : undefined;
  }
  async dropStagedInputs(sagaIds: readonly string[]): Promise<number> {
    return sagaIds.filter((id) => this.staged.delete(id)).length;
  }
  private readonly erasures = new Map<string, { sagaId: string; erasedAt: Date }>();
  async recordErasure(docId: string, sagaId: string): Promise<void> {
    if (this.erasures.get(docId)?.sagaId !== sagaId) this.erasures.set(docId, { sagaId, erasedAt: new Date(this.now()) });
  }
  async erasureOf(docId: string): Promise<{ sagaId: string; erasedAt: Date } | undefined> {
    return this.erasures.get(docId);
  }
  async tracesOf(docId: string): Promise<RelationalTraces> {
    return {
      documents: this.docs.has(docId) ? 1 : 0,
      versions: this.versions.get(docId)?.size ?? 0,
      chunks: [...this.chunks.keys()].filter((k) => k.startsWith(K(docId, ''))).length,
      staged: [...this.staged.values()].filter((r) => r.docId === docId).length,
      fences: 0,
      embeddings: this.embeddingCache.usesOf(docId),
    };
  }
  // The embedding cache (src/stores/postgres/embedding-cache.ts): its contract in memory.
  private readonly embeddingCache = new MemoryEmbeddingCache();
  lookupEmbeddings(use: EmbeddingUse, model: EmbeddingModel, hashes: readonly string[]): Promise<Map<string, number[]>> {
    return this.embeddingCache.lookupEmbeddings(use, model, hashes);
  }
  putEmbeddings(
    use: EmbeddingUse,
    model: EmbeddingModel,
    entries: ReadonlyArray<{ textSha256: string; embedding: readonly number[] }>,
  ): Promise<void> {
    return this.embeddingCache.putEmbeddings(use, model, entries);
  }
  forgetEmbeddings(docId: string, contentSha256: string | null, opts: { heldBy?: string } = {}): Promise<number> {
    if (opts.heldBy !== undefined && this.locks.get(docId) !== opts.heldBy) return Promise.resolve(0);
    return this.embeddingCache.forgetEmbeddings(docId, contentSha256);
  }
  async listStaged(filter: StagedFilter, limit: number): Promise<StagedRef[]> {
    return [...this.staged.entries()]
      .filter(
        ([id, r]) =>
          (filter.docId === undefined || r.docId === filter.docId) &&
          (filter.before === undefined || r.createdAt < filter.before) &&
          (filter.afterSagaId === undefined || id > filter.afterSagaId),
      )
      .sort(([a], [b]) => byId(a, b))
      .slice(0, limit)
      .map(([sagaId, r]) => ({ sagaId, docId: r.docId, createdAt: r.createdAt, ageMs: this.now() - r.createdAt.getTime() }));
  }

  /** lockAndFence + holdDocument: refuses (nothing changed but the fence) or returns the commit of
   * both. A refusal after the fence check passed (busy here, conflict or no pending version in
   * commit) keeps the fence raised, as postgres/locks.ts keepFenceRaised does: a newer owner of the
   * saga exists whatever refused it. `raiseAndThrow` is that for the caller's own refusals. */
  private admit(docId: string, ctx: WriteContext): (() => void) & { raiseAndThrow: (err: Error) => never } {
    const raise = this.fences.check(docId, ctx);
    const d = this.docs.get(docId);
    const newer =
      (d && d.row.sagaId === ctx.sagaId && d.token > ctx.fencingToken) ||
      [...(this.versions.get(docId)?.values() ?? [])].some((v) => v.sagaId === ctx.sagaId && v.token > ctx.fencingToken);
    if (newer) throw new StoreError('postgres', 'STORE_FENCED', `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for ${docId}`);
    const raiseAndThrow = (err: Error): never => {
      raise();
      throw err;
    };
    const holder = this.locks.get(docId);
    if (holder !== undefined && holder !== ctx.sagaId) raiseAndThrow(new DocumentBusyError(docId, holder));
    return Object.assign(
      () => {
        raise();
        this.locks.set(docId, ctx.sagaId);
      },
      { raiseAndThrow },
    );
  }
  private release0(docId: string, ctx: WriteContext): void {
    if (this.locks.get(docId) === ctx.sagaId) this.locks.delete(docId);
  }
  private dropUncommitted(docId: string, sha: string): void {
    if (this.docs.get(docId)?.row.contentSha256 === sha) return;
    for (const key of [...this.chunks.keys()])
      if (key === K(docId, sha) || key.startsWith(`${K(docId, sha)}\u0001`)) this.chunks.delete(key);
  }
  private stamp(d: Doc, ctx: WriteContext): void {
    d.row = { ...d.row, sagaId: ctx.sagaId, updatedAt: new Date(this.now()) };
    d.token = ctx.fencingToken;
  }
  private copy(docId: string): DocumentRow | undefined {
    const d = this.docs.get(docId);
    return d ? { ...d.row } : undefined;
  }
  /** The content state of one document (not who last wrote it, its lock or its times): what an effect changes. */
  digest(docId: string): string {
    const r = this.docs.get(docId)?.row;
    const vs = [...(this.versions.get(docId)?.entries() ?? [])].map(([sha, v]) => [sha, v.title, v.metadata]).sort();
    const cs = [...this.chunks.entries()].filter(([k]) => k.startsWith(K(docId, ''))).sort();
    return JSON.stringify([r ? [r.ingestionStatus, r.contentSha256, r.title, r.metadata] : null, vs, cs]);
  }

  async putPending(v: DocumentVersion, ctx: WriteContext): Promise<{ previousSha: string | null }> {
    this.admit(v.docId, ctx)();
    const before = this.docs.get(v.docId);
    const previousSha = before?.row.contentSha256 ?? null;
    if (!before) {
      const at = new Date(this.now());
      this.docs.set(v.docId, {
        row: {
          id: v.docId,
          title: v.title,
          contentSha256: null,
          ingestionStatus: 'pending',
          sagaId: ctx.sagaId,
          metadata: v.metadata,
          createdAt: at,
          updatedAt: at,
        },
        token: ctx.fencingToken,
      });
    } else {
      if (before.row.contentSha256 === null)
        before.row = { ...before.row, title: v.title, metadata: v.metadata, ingestionStatus: 'pending' };
      this.stamp(before, ctx);
    }
    if (previousSha !== v.contentSha256) {
      const vs = this.versions.get(v.docId) ?? new Map<string, Ver>();
      vs.set(v.contentSha256, {
        title: v.title,
        metadata: v.metadata,
        sagaId: ctx.sagaId,
        token: ctx.fencingToken,
        seq: vs.get(v.contentSha256)?.seq ?? this.seq++,
      });
      this.versions.set(v.docId, vs);
    }
    this.chunks.set(
      CK(v.docId, v.contentSha256, chunkingOf(v)),
      v.chunks.map((c) => c.text),
    );
    return { previousSha };
  }

  async discardPending(docId: string, sha: string, ctx: WriteContext, opts: { release?: boolean } = {}): Promise<void> {
    this.admit(docId, ctx)();
    this.versions.get(docId)?.delete(sha);
    this.dropUncommitted(docId, sha);
    const d = this.docs.get(docId);
    if (d && d.row.contentSha256 === null && (this.versions.get(docId)?.size ?? 0) === 0) {
      d.row = { ...d.row, ingestionStatus: 'failed' };
      this.stamp(d, ctx);
    }
    if (opts.release) this.release0(docId, ctx);
  }

  async commit(docId: string, sha: string, ctx: WriteContext, expectedPrevious?: string | null): Promise<void> {
    const admit = this.admit(docId, ctx);
    const d = this.docs.get(docId);
    const current = d?.row.contentSha256 ?? null;
    if (expectedPrevious !== undefined && current !== expectedPrevious && current !== sha) {
      admit.raiseAndThrow(new StoreError('postgres', 'STORE_CONFLICT', `commit: ${docId} changed meanwhile`));
    }
    const v = this.versions.get(docId)?.get(sha);
    if (!(d && v) && current !== sha)
      admit.raiseAndThrow(new StoreError('postgres', 'STORE_PERMANENT', `commit: no pending version ${sha} of ${docId}`));
    admit();
    if (d && v) {
      d.row = { ...d.row, contentSha256: sha, title: v.title, metadata: v.metadata, ingestionStatus: 'committed' };
      this.stamp(d, ctx);
      this.versions.get(docId)?.delete(sha);
    }
  }

  async removeVersion(docId: string, sha: string): Promise<void> {
    this.dropUncommitted(docId, sha);
    this.versions.get(docId)?.delete(sha);
  }

  async acquire(docId: string, ctx: WriteContext): Promise<DocumentRow | undefined> {
    this.admit(docId, ctx)();
    return this.copy(docId);
  }
  async release(docId: string, ctx: WriteContext): Promise<void> {
    this.admit(docId, ctx)();
    this.release0(docId, ctx);
  }
  async finishVersion(docId: string, previousSha: string | null, ctx: WriteContext): Promise<void> {
    this.admit(docId, ctx)();
    if (previousSha !== null) {
      this.dropUncommitted(docId, previousSha);
      this.versions.get(docId)?.delete(previousSha);
    }
    this.release0(docId, ctx);
  }

  async whileFree<T>(
    docId: string,
    work: (row: DocumentRow | undefined) => Promise<T>,
  ): Promise<{ free: true; value: T } | { free: false; holder: string }> {
    const holder = this.locks.get(docId);
    if (holder !== undefined) return { free: false, holder };
    this.locks.set(docId, WHILE_FREE);
    try {
      return { free: true, value: await work(this.copy(docId)) };
    } finally {
      this.locks.delete(docId);
    }
  }
  async holderOf(docId: string): Promise<string | undefined> {
    return this.locks.get(docId);
  }
  async listHeld(afterId: string | null, limit: number): Promise<Array<{ docId: string; sagaId: string }>> {
    return [...this.locks.entries()]
      .filter(([d]) => afterId === null || d > afterId)
      .sort(([a], [b]) => byId(a, b))
      .slice(0, limit)
      .map(([docId, sagaId]) => ({ docId, sagaId }));
  }
  async pendingStats(): Promise<{ pending: number; oldestPendingAt: Date | null }> {
    const ids = new Set([...this.docs.values()].filter((d) => d.row.ingestionStatus === 'pending').map((d) => d.row.id));
    for (const [id, vs] of this.versions) if (vs.size > 0) ids.add(id);
    return { pending: ids.size, oldestPendingAt: null };
  }

  async markDeleting(docId: string, ctx: WriteContext): Promise<DocumentRow | undefined> {
    this.admit(docId, ctx)();
    const before = this.copy(docId);
    const d = this.docs.get(docId);
    if (d) {
      d.row = { ...d.row, ingestionStatus: 'deleting' };
      this.stamp(d, ctx);
    }
    return before;
  }
  async unmarkDeleting(docId: string, ctx: WriteContext): Promise<void> {
    this.admit(docId, ctx)();
    const d = this.docs.get(docId);
    if (d && d.row.ingestionStatus === 'deleting') {
      d.row = { ...d.row, ingestionStatus: d.row.contentSha256 === null ? 'failed' : 'committed' };
      this.stamp(d, ctx);
    }
    this.release0(docId, ctx);
  }
  async deleteDocument(docId: string, ctx: WriteContext): Promise<void> {
    // As postgres/sql-store.ts: no row this saga marked (applied already, or nothing to delete) gives
    // back what this saga holds, without taking the document (a later saga may hold it).
    const marked = this.docs.get(docId)?.row;
    if (!(marked?.ingestionStatus === 'deleting' && marked.sagaId === ctx.sagaId)) {
      this.release0(docId, ctx);
      return;
    }
    this.admit(docId, ctx)();
    for (const key of [...this.chunks.keys()]) if (key.startsWith(K(docId, ''))) this.chunks.delete(key);
    this.versions.delete(docId);
    this.docs.delete(docId);
    this.release0(docId, ctx);
  }

  async getDocument(docId: string): Promise<DocumentRow | undefined> {
    return this.copy(docId);
  }
  async getChunks(docId: string, sha: string, chunking = 1): Promise<Array<{ idx: number; text: string }>> {
    return (this.chunks.get(CK(docId, sha, chunking)) ?? []).map((text, idx) => ({ idx, text }));
  }
  async dropChunking(docIds: readonly string[], chunking: number): Promise<number> {
    let n = 0;
    for (const docId of new Set(docIds)) {
      for (const [key, texts] of [...this.chunks.entries()]) {
        if (!key.startsWith(K(docId, '')) || chunkingOfKey(key) !== chunking) continue;
        n += texts.length;
        this.chunks.delete(key);
      }
    }
    return n;
  }
  async getPendingVersions(docId: string): Promise<PendingVersion[]> {
    return [...(this.versions.get(docId)?.entries() ?? [])]
      .sort(([, a], [, b]) => a.seq - b.seq)
      .map(([contentSha256, v]) => ({ docId, contentSha256, sagaId: v.sagaId, title: v.title }));
  }
  async listDocuments(afterId: string | null, limit: number): Promise<DocumentRow[]> {
    return [...this.docs.keys()]
      .filter((d) => afterId === null || d > afterId)
      .sort(byId)
      .slice(0, limit)
      .map((d) => this.copy(d) as DocumentRow);
  }
  async inspectDocuments(afterId: string | null, limit: number, chunking = 1): Promise<DocumentInspection[]> {
    const rows = await this.listDocuments(afterId, limit);
    return Promise.all(
      rows.map(async (row) => ({
        row,
        committedChunks: row.contentSha256 === null ? 0 : (this.chunks.get(CK(row.id, row.contentSha256, chunking))?.length ?? 0),
        pendingVersions: await this.getPendingVersions(row.id),
      })),
    );
  }
  async statusesOf(docIds: readonly string[]): Promise<Map<string, IngestionStatus>> {
    const out = new Map<string, IngestionStatus>();
    for (const id of docIds) {
      const d = this.docs.get(id);
      if (d) out.set(id, d.row.ingestionStatus);
    }
    return out;
  }
}

/** Neo4j and Qdrant modelled alike: versions of chunks per document; `fenced` for Neo4j only. */
class SimDerived extends Lifecycle {
  private readonly own = new Map<string, Map<string, number>>();
  /** doc -> (sha -> chunk count); SimVector answers its bound collection's. */
  protected get held(): Map<string, Map<string, number>> {
    return this.own;
  }
  private readonly fences: Fences;
  constructor(
    readonly name: 'neo4j' | 'qdrant',
    private readonly fenced: boolean,
  ) {
    super();
    this.fences = new Fences(name);
  }
  /** `chunking`: the graph keeps each chunking of a version apart (key sha\u0001n for n > 1). */
  protected write(v: DocumentVersion, ctx: WriteContext, chunking = 1): void {
    if (this.fenced) this.fences.check(v.docId, ctx)();
    const vs = this.held.get(v.docId) ?? new Map<string, number>();
    vs.set(chunking === 1 ? v.contentSha256 : `${v.contentSha256}\u0001${chunking}`, v.chunks.length);
    this.held.set(v.docId, vs);
  }
  digest(docId: string): string {
    return JSON.stringify([...(this.held.get(docId)?.entries() ?? [])].sort());
  }
  async removeVersion(docId: string, sha: string, ctx?: WriteContext): Promise<void> {
    if (this.fenced) this.fences.check(docId, ctx)();
    const vs = this.held.get(docId);
    for (const key of [...(vs?.keys() ?? [])]) if (key === sha || key.startsWith(`${sha}\u0001`)) vs?.delete(key);
    if (vs?.size === 0) this.held.delete(docId);
  }
  async removeDocument(docId: string, ctx?: WriteContext): Promise<void> {
    if (this.fenced) this.fences.check(docId, ctx)();
    this.held.delete(docId);
  }
  async listVersions(docId: string): Promise<StoredVersion[]> {
    return [...(this.held.get(docId)?.entries() ?? [])]
      .sort(([a], [b]) => byId(a, b))
      .map(([key, chunkCount]) => {
        const k = chunkingOfKey(key);
        return k === 1
          ? { docId, contentSha256: key, chunkCount }
          : { docId, contentSha256: key.slice(0, key.lastIndexOf('\u0001')), chunkCount, chunking: k };
      });
  }
  async versionsOf(docIds: readonly string[]): Promise<StoredVersion[]> {
    return (await Promise.all(docIds.map((d) => this.listVersions(d)))).flat();
  }
  async listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    return [...this.held.keys()]
      .filter((d) => afterId === null || d > afterId)
      .sort(byId)
      .slice(0, limit);
  }
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const docIds = await this.listDocIds(cursor, limit);
    return { docIds, next: docIds.length < limit ? null : (docIds[docIds.length - 1] ?? null) };
  }
}

export class SimGraph extends SimDerived implements GraphStore {
  declare readonly name: 'neo4j';
  constructor() {
    super('neo4j', true);
  }
  async writeVersion(v: DocumentVersion, ctx: WriteContext): Promise<void> {
    this.write(v, ctx, chunkingOf(v));
  }
  async dropChunking(docIds: readonly string[], chunking: number): Promise<number> {
    let n = 0;
    for (const docId of new Set(docIds)) {
      const vs = this.held.get(docId);
      for (const [key, count] of [...(vs?.entries() ?? [])]) {
        if (chunkingOfKey(key) !== chunking) continue;
        n += count;
        vs?.delete(key);
      }
      if (vs?.size === 0) this.held.delete(docId);
    }
    return n;
  }
  async entities(): Promise<string[]> {
    return [];
  }
}

/** The collections and aliases SimVectors of one server share (withCollection). */
interface SimCollections {
  collections: Map<string, { dimension: number; held: Map<string, Map<string, number>> }>;
  aliases: Map<string, string>;
}

const SIM_DEFAULT_COLLECTION = 'apex_chunks';

export class SimVector extends SimDerived implements VectorStore {
  declare readonly name: 'qdrant';
  constructor(
    readonly dimension: number,
    private readonly bound: string = SIM_DEFAULT_COLLECTION,
    private readonly shared: SimCollections = {
      collections: new Map([[SIM_DEFAULT_COLLECTION, { dimension, held: new Map() }]]),
      aliases: new Map(),
    },
  ) {
    super('qdrant', false);
  }
  /** While a write runs: a missing collection is created first (the adapter's writeVersion does). */
  private creating = false;
  /**
   * The bound name's collection (through an alias). A missing one reads empty and has nothing to
   * remove, like Qdrant's (src/stores/qdrant/collection.ts); a write creates it again first.
   */
  protected override get held(): Map<string, Map<string, number>> {
    const name = this.shared.aliases.get(this.bound) ?? this.bound;
    let c = this.shared.collections.get(name);
    if (!c) {
      c = { dimension: this.dimension, held: new Map() };
      if (this.creating && !this.shared.aliases.has(this.bound)) this.shared.collections.set(name, c);
    }
    return c.held;
  }
  async ensureCollection(name: string, dimension: number): Promise<void> {
    const c = this.shared.collections.get(name);
    if (this.shared.aliases.has(name)) throw new StoreError('qdrant', 'STORE_CONFLICT', `ensureCollection: ${name} is an alias`);
    if (c && c.dimension !== dimension)
      throw new StoreError('qdrant', 'STORE_CONFLICT', `ensureCollection: ${name} has dimension ${c.dimension}, not ${dimension}`);
    if (!c) this.shared.collections.set(name, { dimension, held: new Map() });
  }
  async dropCollection(name: string): Promise<void> {
    const by = [...this.shared.aliases].find(([, target]) => target === name);
    if (by) throw new StoreError('qdrant', 'STORE_CONFLICT', `dropCollection: alias ${by[0]} points at ${name}`);
    this.shared.collections.delete(name);
  }
  async listCollections(): Promise<Array<{ name: string; dimension: number; points: number }>> {
    return [...this.shared.collections]
      .sort(([a], [b]) => byId(a, b))
      .map(([name, c]) => ({
        name,
        dimension: c.dimension,
        points: [...c.held.values()].reduce((n, vs) => n + [...vs.values()].reduce((a, b) => a + b, 0), 0),
      }));
  }
  async setAlias(alias: string, collection: string): Promise<void> {
    if (!this.shared.collections.has(collection))
      throw new StoreError('qdrant', 'STORE_PERMANENT', `setAlias: collection ${collection} does not exist`);
    if (this.shared.collections.has(alias)) throw new StoreError('qdrant', 'STORE_CONFLICT', `setAlias: ${alias} is a collection`);
    this.shared.aliases.set(alias, collection);
  }
  async deleteAlias(alias: string): Promise<void> {
    this.shared.aliases.delete(alias);
  }
  async listAliases(): Promise<Array<{ alias: string; collection: string }>> {
    return [...this.shared.aliases].sort(([a], [b]) => byId(a, b)).map(([alias, collection]) => ({ alias, collection }));
  }
  withCollection(name: string, dimension: number): SimVector {
    return new SimVector(dimension, name, this.shared);
  }
  async writeVersion(v: DocumentVersion, ctx: WriteContext): Promise<void> {
    this.creating = true;
    try {
      this.write(v, ctx);
    } finally {
      this.creating = false;
    }
  }
  async search(): Promise<VectorHit[]> {
    return [];
  }
}

export class SimCache extends Lifecycle implements CacheStore {
  readonly name = 'redis' as const;
  private readonly entries = new Map<string, CacheEntry>();
  private readonly fences = new Fences('redis');
  /**
   * Re-chunking worlds set it false: after a switch to another chunking, a saga acting on the
   * record it cached before the switch writes the entry with the previous chunking's chunk count
   * (the product caches the record 1 s), and a delete's compensation that puts the entry back
   * refreshes that count: a change of content its refused forward step did not make.
   */
  countInDigest = true;
  digest(docId: string): string {
    const e = this.entries.get(docId);
    return JSON.stringify(e && !this.countInDigest ? { ...e, chunkCount: 0 } : (e ?? null));
  }
  async put(entry: CacheEntry, ctx: WriteContext): Promise<void> {
    this.fences.check(entry.docId, ctx)();
    this.entries.set(entry.docId, { ...entry });
  }
  async remove(docId: string, sha: string | null, ctx?: WriteContext): Promise<void> {
    this.fences.check(docId, ctx)();
    const e = this.entries.get(docId);
    if (e && (sha === null || e.contentSha256 === sha)) this.entries.delete(docId);
  }
  async get(docId: string): Promise<CacheEntry | undefined> {
    const e = this.entries.get(docId);
    return e ? { ...e } : undefined;
  }
  async getMany(docIds: readonly string[]): Promise<CacheEntry[]> {
    return docIds.flatMap((d) => {
      const e = this.entries.get(d);
      return e ? [{ ...e }] : [];
    });
  }
  async listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    return [...this.entries.keys()]
      .filter((d) => afterId === null || d > afterId)
      .sort(byId)
      .slice(0, limit);
  }
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const docIds = await this.listDocIds(cursor, limit);
    return { docIds, next: docIds.length < limit ? null : (docIds[docIds.length - 1] ?? null) };
  }
}

export function simStores(now: () => number, dimension: number): StoreSet {
  return { postgres: new SimRelational(now), neo4j: new SimGraph(), qdrant: new SimVector(dimension), redis: new SimCache() };
}
