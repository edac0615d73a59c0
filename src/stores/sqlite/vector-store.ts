// Embedded stand-in for Qdrant: chunk vectors in SQLite (e.g. .apex/vectors.db), point ids computed
// exactly as for Qdrant, and exact brute-force cosine search (fine at embedded-profile sizes).
// Collections and aliases (vector-catalog.ts): a store is bound to a name and resolves it on every
// call, so a store bound to an alias follows a switch at once.
import { StoreError } from '../errors.js';
import { pointId } from '../point-id.js';
import type { DocIdPage, DocumentVersion, HealthReport, StoredVersion, VectorHit, VectorStore, WriteContext } from '../types.js';
import { checkCollectionName, checkDimension } from '../collection-names.js';
import { CATALOG_DDL, DEFAULT_COLLECTION, quoted, VectorCatalog, type VectorTarget } from './vector-catalog.js';
import { openSqliteFile, runSqlite, runSqliteBatch, statementCache, truncateWal, vacuumFile } from './file.js';
import type { DerivedBatchWrites, Outcomes, RemoveVersionItem, WriteItem } from '../batch-types.js';
import type { SqliteDatabase, SqliteStatement } from './file.js';
import { VersionReads } from './version-reads.js';

export interface SqliteVectorOptions {
  file: string;
  dimension: number;
  /** The collection or alias this store reads and writes (default apex_chunks, the table `points`). */
  collection?: string;
}

/** The open file a store and the stores its withCollection made share; only the opener closes it. */
interface SharedFile {
  db: SqliteDatabase;
  sql: (text: string) => SqliteStatement;
  catalog: VectorCatalog;
  reads: Map<string, VersionReads>;
}

interface PointRow {
  doc_id: string;
  content_sha256: string;
  idx: number;
  vector: Buffer;
}

function toBlob(values: number[]): Buffer {
  const floats = Float32Array.from(values);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

function fromBlob(blob: Buffer): Float32Array {
  // Copy: the Buffer may share a pool whose offset is not 4-byte aligned.
  return new Float32Array(new Uint8Array(blob).buffer);
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

export class SqliteVectorStore implements VectorStore, DerivedBatchWrites {
  readonly name = 'qdrant' as const;
  readonly backend = 'sqlite-vector';
  readonly dimension: number;
  private readonly file: string;
  private readonly bound: string;
  private readonly shared: SharedFile;
  private readonly owner: boolean;

  constructor(options: SqliteVectorOptions, shared?: SharedFile) {
    this.file = options.file;
    this.dimension = options.dimension;
    this.bound = options.collection ?? DEFAULT_COLLECTION;
    this.owner = shared === undefined;
    if (shared) {
      this.shared = shared;
    } else {
      const db = openSqliteFile(options.file, CATALOG_DDL);
      const sql = statementCache(db);
      const catalog = new VectorCatalog(db, sql);
      if (this.bound === DEFAULT_COLLECTION) catalog.registerDefault(options.dimension);
      this.shared = { db, sql, catalog, reads: new Map() };
    }
  }

  private get db(): SqliteDatabase {
    return this.shared.db;
  }
  private get sql(): (text: string) => SqliteStatement {
    return this.shared.sql;
  }

  /** The collection the bound name names now; undefined when none (reads see an empty store). */
  private target(): VectorTarget | undefined {
    return this.shared.catalog.resolve(this.bound);
  }

  /** As Qdrant's adapter, a write to a missing collection creates it first (never under an alias). */
  private writeTarget(): VectorTarget {
    const t = this.target();
    if (t) return t;
    if (this.shared.catalog.aliasTarget(this.bound) !== undefined) {
      throw new StoreError('qdrant', 'STORE_PERMANENT', `alias ${this.bound} points at a collection that does not exist`);
    }
    this.shared.catalog.ensure(this.bound, this.dimension);
    const made = this.target();
    if (!made) throw new StoreError('qdrant', 'STORE_PERMANENT', `collection ${this.bound} could not be created`);
    return made;
  }

  private readsOf(t: VectorTarget): VersionReads {
    let reads = this.shared.reads.get(t.table);
    if (!reads) {
      const table = quoted(t.table);
      reads = new VersionReads(this.sql, {
        store: 'qdrant',
        table,
        idsAfter: `SELECT DISTINCT doc_id AS id FROM ${table} WHERE (? IS NULL OR doc_id > ?) ORDER BY doc_id LIMIT ?`,
      });
      this.shared.reads.set(t.table, reads);
    }
    return reads;
  }

  async connect(): Promise<void> {
    // The file's schema is made when it opens; a name that is neither an alias nor a collection
    // becomes a collection (an alias creates nothing).
    await runSqlite('qdrant', 'connect', () => {
      if (!this.target() && this.shared.catalog.aliasTarget(this.bound) === undefined)
        this.shared.catalog.ensure(this.bound, this.dimension);
    });
  }

  async health(): Promise<HealthReport> {
    try {
      await runSqlite('qdrant', 'health', () => this.sql('SELECT 1').get());
      return { ok: true, detail: `sqlite-vector file ${this.file}, ${this.bound} (dimension ${this.dimension})` };
    } catch (err) {
      return { ok: false, detail: `sqlite-vector file ${this.file}: ${String(err)}` };
    }
  }

  async close(): Promise<void> {
    if (this.owner) this.db.close(); // a withCollection store shares the opener's file
  }

  reclaim(_opts: { full: boolean }): Promise<string> {
    return runSqlite('qdrant', 'reclaim', () => vacuumFile(this.db));
  }

  private checkDimension(values: number[], what: string, t?: VectorTarget): void {
    const expected = t?.dimension ?? this.dimension;
    if (values.length !== this.dimension || values.length !== expected) {
      throw new StoreError('qdrant', 'STORE_PERMANENT', `${what}: vector has ${values.length} dimensions, collection has ${expected}`);
    }
  }

  private writeSync(v: DocumentVersion): void {
    const t = this.writeTarget();
    for (const c of v.chunks) this.checkDimension(c.embedding, 'writeVersion', t);
    const upsert = this.sql(`INSERT OR REPLACE INTO ${quoted(t.table)} (id, doc_id, content_sha256, idx, vector) VALUES (?, ?, ?, ?, ?)`);
    this.db.transaction(() => {
      for (const c of v.chunks) upsert.run(pointId(v.docId, v.contentSha256, c.idx), v.docId, v.contentSha256, c.idx, toBlob(c.embedding));
    })();
  }

  writeVersion(v: DocumentVersion, _ctx?: WriteContext): Promise<void> {
    return runSqlite('qdrant', 'writeVersion', () => this.writeSync(v));
  }

  writeVersionBatch(items: readonly WriteItem[]): Outcomes {
    return runSqliteBatch('qdrant', 'writeVersionBatch', this.db, items, ({ v }) => this.writeSync(v));
  }

  private deleteVersion(docId: string, contentSha256: string): void {
    const t = this.target();
    if (t) this.sql(`DELETE FROM ${quoted(t.table)} WHERE doc_id = ? AND content_sha256 = ?`).run(docId, contentSha256);
  }

  removeVersionBatch(items: readonly RemoveVersionItem[]): Outcomes {
    return runSqliteBatch('qdrant', 'removeVersionBatch', this.db, items, (it) => this.deleteVersion(it.docId, it.contentSha256));
  }

  removeVersion(docId: string, contentSha256: string, _ctx?: WriteContext): Promise<void> {
    return runSqlite('qdrant', 'removeVersion', () => this.deleteVersion(docId, contentSha256));
  }

  async listVersions(docId: string): Promise<StoredVersion[]> {
    const t = this.target();
    return t ? this.readsOf(t).listVersions(docId) : [];
  }

  async versionsOf(docIds: readonly string[]): Promise<StoredVersion[]> {
    const t = this.target();
    return t ? this.readsOf(t).versionsOf(docIds) : [];
  }

  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const t = this.target();
    return t ? this.readsOf(t).scanDocIds(cursor, limit) : { docIds: [], next: null };
  }

  async listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    const t = this.target();
    return t ? this.readsOf(t).listDocIds(afterId, limit) : [];
  }

  removeDocument(docId: string, _ctx?: WriteContext): Promise<void> {
    return runSqlite('qdrant', 'removeDocument', () => {
      const t = this.target();
      if (!t) return;
      this.sql(`DELETE FROM ${quoted(t.table)} WHERE doc_id = ?`).run(docId);
      truncateWal(this.db); // the delete saga's removal: the WAL's old page images go too
    });
  }

  search(vector: number[], limit: number): Promise<VectorHit[]> {
    return runSqlite('qdrant', 'search', () => {
      const t = this.target();
      this.checkDimension(vector, 'search', t);
      if (!t) return [];
      const hits: VectorHit[] = [];
      const rows = this.sql(`SELECT doc_id, content_sha256, idx, vector FROM ${quoted(t.table)}`).iterate() as IterableIterator<PointRow>;
      for (const row of rows) {
        hits.push({ docId: row.doc_id, contentSha256: row.content_sha256, idx: row.idx, score: cosine(vector, fromBlob(row.vector)) });
      }
      return hits.sort((a, b) => b.score - a.score).slice(0, limit);
    });
  }

  // Collections and aliases (issue 25): vector-catalog.ts, one SQLite transaction each.
  ensureCollection(name: string, dimension: number): Promise<void> {
    return runSqlite('qdrant', 'ensureCollection', () => this.shared.catalog.ensure(name, dimension));
  }
  dropCollection(name: string): Promise<void> {
    return runSqlite('qdrant', 'dropCollection', () => this.shared.catalog.drop(name));
  }
  listCollections(): Promise<Array<{ name: string; dimension: number; points: number }>> {
    return runSqlite('qdrant', 'listCollections', () => this.shared.catalog.list());
  }
  setAlias(alias: string, collection: string): Promise<void> {
    return runSqlite('qdrant', 'setAlias', () => this.shared.catalog.setAlias(alias, collection));
  }
  deleteAlias(alias: string): Promise<void> {
    return runSqlite('qdrant', 'deleteAlias', () => this.shared.catalog.deleteAlias(alias));
  }
  listAliases(): Promise<Array<{ alias: string; collection: string }>> {
    return runSqlite('qdrant', 'listAliases', () => this.shared.catalog.listAliases());
  }
  /** The same open file, bound to `name`; closing it leaves the file open (this store owns it). */
  withCollection(name: string, dimension: number): SqliteVectorStore {
    checkCollectionName('withCollection', 'name', name);
    checkDimension('withCollection', dimension);
    return new SqliteVectorStore({ file: this.file, dimension, collection: name }, this.shared);
  }
}

/** Opens (creating if needed) the vector stand-in, e.g. `openSqliteVector('.apex/vectors.db', 64)`. */
export async function openSqliteVector(file: string, dimension: number): Promise<SqliteVectorStore> {
  return new SqliteVectorStore({ file, dimension });
}
