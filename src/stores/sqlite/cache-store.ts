// Embedded stand-in for Redis: one row per document (the Redis entry `apex:{<len>:<id>}:doc`) in SQLite (e.g. .apex/cache.db).
import type { CacheEntry, CacheStore, DocIdPage, HealthReport, WriteContext } from '../types.js';
import { openSqliteFile, runSqlite, runSqliteBatch, statementCache, truncateWal, vacuumFile } from './file.js';
import type { CacheBatchWrites, CacheRemoveItem, Outcomes } from '../batch-types.js';
import type { SqliteDatabase, SqliteStatement } from './file.js';

const CACHE_DDL = [
  `CREATE TABLE IF NOT EXISTS cache (doc_id TEXT PRIMARY KEY, content_sha256 TEXT NOT NULL, value TEXT NOT NULL) WITHOUT ROWID`,
];

export class SqliteCacheStore implements CacheStore, CacheBatchWrites {
  readonly name = 'redis' as const;
  readonly backend = 'sqlite-cache';
  private readonly db: SqliteDatabase;
  private readonly file: string;
  /** Prepared once per statement text (sqlite-file.ts statementCache). */
  private readonly sql: (text: string) => SqliteStatement;

  constructor(file: string) {
    this.file = file;
    this.db = openSqliteFile(file, CACHE_DDL);
    this.sql = statementCache(this.db);
  }

  async connect(): Promise<void> {
    // Schema is created when the file opens.
  }

  async health(): Promise<HealthReport> {
    try {
      await runSqlite('redis', 'health', () => this.sql('SELECT 1').get());
      return { ok: true, detail: `sqlite-cache file ${this.file}` };
    } catch (err) {
      return { ok: false, detail: `sqlite-cache file ${this.file}: ${String(err)}` };
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  reclaim(_opts: { full: boolean }): Promise<string> {
    return runSqlite('redis', 'reclaim', () => vacuumFile(this.db));
  }

  put(entry: CacheEntry, _ctx?: WriteContext): Promise<void> {
    return runSqlite('redis', 'put', () => {
      this.sql('INSERT OR REPLACE INTO cache (doc_id, content_sha256, value) VALUES (?, ?, ?)').run(
        entry.docId,
        entry.contentSha256,
        JSON.stringify(entry),
      );
    });
  }

  remove(docId: string, contentSha256: string | null, _ctx?: WriteContext): Promise<void> {
    return runSqlite('redis', 'remove', () => {
      // One statement: the sha comparison and the delete cannot interleave with a newer put.
      this.sql('DELETE FROM cache WHERE doc_id = ? AND (? IS NULL OR content_sha256 = ?)').run(docId, contentSha256, contentSha256);
      // Any version (null): the delete saga's removal; the WAL's old page images go too.
      if (contentSha256 === null) truncateWal(this.db);
    });
  }

  /** Unfenced, like put (the stand-in runs in one process; docs/stores.md). */
  putBatch(items: ReadonlyArray<{ entry: CacheEntry; ctx: WriteContext }>): Outcomes {
    const put = this.sql('INSERT OR REPLACE INTO cache (doc_id, content_sha256, value) VALUES (?, ?, ?)');
    return runSqliteBatch('redis', 'putBatch', this.db, items, ({ entry }) =>
      put.run(entry.docId, entry.contentSha256, JSON.stringify(entry)),
    );
  }

  async removeBatch(items: readonly CacheRemoveItem[]): Outcomes {
    const del = this.sql('DELETE FROM cache WHERE doc_id = ? AND (? IS NULL OR content_sha256 = ?)');
    const out = await runSqliteBatch('redis', 'removeBatch', this.db, items, (it) => del.run(it.docId, it.contentSha256, it.contentSha256));
    // As remove(): a delete saga's removal (any version) takes the WAL's old page images with it.
    if (items.some((it) => it.contentSha256 === null)) truncateWal(this.db);
    return out;
  }

  get(docId: string): Promise<CacheEntry | undefined> {
    return runSqlite('redis', 'get', () => {
      const row = this.sql('SELECT value FROM cache WHERE doc_id = ?').get(docId) as { value: string } | undefined;
      return row ? (JSON.parse(row.value) as CacheEntry) : undefined;
    });
  }

  getMany(docIds: readonly string[]): Promise<CacheEntry[]> {
    return runSqlite('redis', 'getMany', () =>
      (
        this.sql('SELECT value FROM cache WHERE doc_id IN (SELECT value FROM json_each(?)) ORDER BY doc_id').all(
          JSON.stringify(docIds),
        ) as Array<{ value: string }>
      ).map((r) => JSON.parse(r.value) as CacheEntry),
    );
  }

  /** Pages in id order; the cursor is the last id. */
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const docIds = await this.listDocIds(cursor, limit);
    return { docIds, next: docIds.length < limit ? null : (docIds[docIds.length - 1] ?? null) };
  }

  listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    return runSqlite('redis', 'listDocIds', () =>
      (
        this.sql('SELECT doc_id FROM cache WHERE (? IS NULL OR doc_id > ?) ORDER BY doc_id LIMIT ?').all(afterId, afterId, limit) as Array<{
          doc_id: string;
        }>
      ).map((r) => r.doc_id),
    );
  }
}

/** Opens (creating if needed) the cache stand-in at `file` (e.g. `.apex/cache.db`). */
export async function openSqliteCache(file: string): Promise<SqliteCacheStore> {
  return new SqliteCacheStore(file);
}
