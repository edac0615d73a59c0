// The reads that the graph and vector stand-ins answer alike: which versions of a document they
// hold (content hash and chunk count), for one document or many, and the document ids in pages.
// Both keep one row per chunk with doc_id and content_sha256; only the table (chunks, points)
// and where the ids are listed from differ.
import type { DocIdPage, StoredVersion } from '../types.js';
import { runSqlite, type SqliteStatement } from './file.js';

export interface VersionTable {
  /** The store this stand-in plays (error codes and metrics name it). */
  store: 'neo4j' | 'qdrant';
  /** The table with one row per chunk: doc_id, content_sha256 (a quoted identifier for the
   * vector stand-in's per-collection tables). */
  table: string;
  /** The table has a `chunking` column (the graph stand-in): one row per version and chunking. */
  chunkings?: boolean;
  /** SELECT of one column `id` in order: ids after the 1st and 2nd ? (the same value; all when null), LIMIT the 3rd. */
  idsAfter: string;
}

/** One row per version and chunking; `chunking` only when it is not 1 (StoredVersion). */
function stored(docId: string, r: { sha: string; k: number; n: number }): StoredVersion {
  return { docId, contentSha256: r.sha, chunkCount: r.n, ...(r.k !== 1 ? { chunking: r.k } : {}) };
}

export class VersionReads {
  constructor(
    private readonly sql: (text: string) => SqliteStatement,
    private readonly t: VersionTable,
  ) {}

  /** The chunking column, selected as k (1 where the table has none; never a bare 1 in GROUP BY or
   * ORDER BY, where SQLite reads it as a column position). */
  private get k(): { select: string; by: string } {
    return this.t.chunkings ? { select: 'chunking AS k', by: ', chunking' } : { select: '1 AS k', by: '' };
  }

  listVersions(docId: string): Promise<StoredVersion[]> {
    return runSqlite(this.t.store, 'listVersions', () =>
      (
        this.sql(
          `SELECT content_sha256 AS sha, ${this.k.select}, COUNT(*) AS n FROM ${this.t.table} WHERE doc_id = ?
       GROUP BY content_sha256${this.k.by} ORDER BY content_sha256${this.k.by}`,
        ).all(docId) as Array<{ sha: string; k: number; n: number }>
      ).map((r) => stored(docId, r)),
    );
  }

  versionsOf(docIds: readonly string[]): Promise<StoredVersion[]> {
    return runSqlite(this.t.store, 'versionsOf', () =>
      (
        this.sql(
          `SELECT doc_id, content_sha256 AS sha, ${this.k.select}, COUNT(*) AS n FROM ${this.t.table}
       WHERE doc_id IN (SELECT value FROM json_each(?)) GROUP BY doc_id, content_sha256${this.k.by}
       ORDER BY doc_id, content_sha256${this.k.by}`,
        ).all(JSON.stringify(docIds)) as Array<{ doc_id: string; sha: string; k: number; n: number }>
      ).map((r) => stored(r.doc_id, r)),
    );
  }

  /** Pages in id order; the cursor is the last id. */
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const docIds = await this.listDocIds(cursor, limit);
    return { docIds, next: docIds.length < limit ? null : (docIds[docIds.length - 1] ?? null) };
  }

  listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    return runSqlite(this.t.store, 'listDocIds', () =>
      (this.sql(this.t.idsAfter).all(afterId, afterId, limit) as Array<{ id: string }>).map((r) => r.id),
    );
  }
}
