// Embedded stand-in for Qdrant: chunk vectors in SQLite (e.g. .apex/vectors.db), point ids computed
// exactly as for Qdrant, and exact brute-force cosine search (fine at embedded-profile sizes).
import { StoreError } from '../errors.js';
import { pointId } from '../point-id.js';
import type { DocIdPage, DocumentVersion, HealthReport, StoredVersion, VectorCollections, VectorHit, VectorStore, WriteContext } from '../types.js';
import { openSqliteFile, runSqlite, runSqliteBatch, statementCache, truncateWal, vacuumFile } from './file.js';
import type { DerivedBatchWrites, Outcomes, RemoveVersionItem, WriteItem } from '../batch-types.js';
import type { SqliteDatabase, SqliteStatement } from './file.js';
import { VersionReads } from './version-reads.js';

const VECTOR_DDL = [
  `CREATE TABLE IF NOT EXISTS points (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, content_sha256 TEXT NOT NULL,
     idx INTEGER NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS points_by_version ON points (doc_id, content_sha256)',
];

export interface SqliteVectorOptions {
  file: string;
  dimension: number;
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

function notYet(what: string): StoreError {
  return new StoreError('qdrant', 'STORE_PERMANENT', `${what}: not implemented yet`);
}

export class SqliteVectorStore implements VectorStore, DerivedBatchWrites {
  readonly name = 'qdrant' as const;
  readonly backend = 'sqlite-vector';
  readonly dimension: number;
  private readonly db: SqliteDatabase;
  private readonly file: string;
  /** Prepared once per statement text (sqlite-file.ts statementCache). */
  private readonly sql: (text: string) => SqliteStatement;
  private readonly reads: VersionReads;

  constructor(options: SqliteVectorOptions) {
    this.file = options.file;
    this.dimension = options.dimension;
    this.db = openSqliteFile(options.file, VECTOR_DDL);
    this.sql = statementCache(this.db);
    this.reads = new VersionReads(this.sql, {
      store: 'qdrant',
      table: 'points',
      idsAfter: 'SELECT DISTINCT doc_id AS id FROM points WHERE (? IS NULL OR doc_id > ?) ORDER BY doc_id LIMIT ?',
    });
  }

  async connect(): Promise<void> {
    // Schema is created when the file opens.
  }

  async health(): Promise<HealthReport> {
    try {
      await runSqlite('qdrant', 'health', () => this.sql('SELECT 1').get());
      return { ok: true, detail: `sqlite-vector file ${this.file} (dimension ${this.dimension})` };
    } catch (err) {
      return { ok: false, detail: `sqlite-vector file ${this.file}: ${String(err)}` };
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  reclaim(_opts: { full: boolean }): Promise<string> {
    return runSqlite('qdrant', 'reclaim', () => vacuumFile(this.db));
  }

  private checkDimension(values: number[], what: string): void {
    if (values.length !== this.dimension) {
      throw new StoreError(
        'qdrant',
        'STORE_PERMANENT',
        `${what}: vector has ${values.length} dimensions, collection has ${this.dimension}`,
      );
    }
  }

  private writeSync(v: DocumentVersion): void {
    for (const c of v.chunks) this.checkDimension(c.embedding, 'writeVersion');
    const upsert = this.sql('INSERT OR REPLACE INTO points (id, doc_id, content_sha256, idx, vector) VALUES (?, ?, ?, ?, ?)');
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

  removeVersionBatch(items: readonly RemoveVersionItem[]): Outcomes {
    const del = this.sql('DELETE FROM points WHERE doc_id = ? AND content_sha256 = ?');
    return runSqliteBatch('qdrant', 'removeVersionBatch', this.db, items, (it) => del.run(it.docId, it.contentSha256));
  }

  removeVersion(docId: string, contentSha256: string, _ctx?: WriteContext): Promise<void> {
    return runSqlite('qdrant', 'removeVersion', () => {
      this.sql('DELETE FROM points WHERE doc_id = ? AND content_sha256 = ?').run(docId, contentSha256);
    });
  }

  listVersions(docId: string): Promise<StoredVersion[]> {
    return this.reads.listVersions(docId);
  }

  versionsOf(docIds: readonly string[]): Promise<StoredVersion[]> {
    return this.reads.versionsOf(docIds);
  }

  scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    return this.reads.scanDocIds(cursor, limit);
  }

  listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    return this.reads.listDocIds(afterId, limit);
  }

  removeDocument(docId: string, _ctx?: WriteContext): Promise<void> {
    return runSqlite('qdrant', 'removeDocument', () => {
      this.sql('DELETE FROM points WHERE doc_id = ?').run(docId);
      truncateWal(this.db); // the delete saga's removal: the WAL's old page images go too
    });
  }

  search(vector: number[], limit: number): Promise<VectorHit[]> {
    return runSqlite('qdrant', 'search', () => {
      this.checkDimension(vector, 'search');
      const hits: VectorHit[] = [];
      for (const row of this.sql('SELECT doc_id, content_sha256, idx, vector FROM points').iterate() as IterableIterator<PointRow>) {
        hits.push({ docId: row.doc_id, contentSha256: row.content_sha256, idx: row.idx, score: cosine(vector, fromBlob(row.vector)) });
      }
      return hits.sort((a, b) => b.score - a.score).slice(0, limit);
    });
  }
  // Collections and aliases (VectorCollections): implemented in the next commits of branch `aliases`.
  ensureCollection(_name: string, _dimension: number): Promise<void> {
    return Promise.reject(notYet('ensureCollection'));
  }
  dropCollection(_name: string): Promise<void> {
    return Promise.reject(notYet('dropCollection'));
  }
  listCollections(): Promise<Array<{ name: string; dimension: number; points: number }>> {
    return Promise.reject(notYet('listCollections'));
  }
  setAlias(_alias: string, _collection: string): Promise<void> {
    return Promise.reject(notYet('setAlias'));
  }
  deleteAlias(_alias: string): Promise<void> {
    return Promise.reject(notYet('deleteAlias'));
  }
  listAliases(): Promise<Array<{ alias: string; collection: string }>> {
    return Promise.reject(notYet('listAliases'));
  }
  withCollection(_name: string, _dimension: number): VectorStore & VectorCollections {
    throw notYet('withCollection');
  }
}

/** Opens (creating if needed) the vector stand-in, e.g. `openSqliteVector('.apex/vectors.db', 64)`. */
export async function openSqliteVector(file: string, dimension: number): Promise<SqliteVectorStore> {
  return new SqliteVectorStore({ file, dimension });
}
