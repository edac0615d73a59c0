// Embedded stand-in for Neo4j: the same Document -> Chunk -> Entity graph as tables in SQLite
// (e.g. .apex/graph.db). Chunk ids are `docId:sha:idx` exactly as in Neo4j (plus `@c<n>` for
// chunking n > 1, neo4j/chunkings.ts), and chunks carry their chunking (1 for rows written before).
import { graphChunkKey } from '../point-id.js';
import {
  chunkingOf,
  type DocIdPage,
  type DocumentVersion,
  type GraphStore,
  type HealthReport,
  type StoredVersion,
  type WriteContext,
} from '../types.js';
import { openSqliteFile, runSqlite, runSqliteBatch, statementCache, truncateWal, vacuumFile } from './file.js';
import type { DerivedBatchWrites, Outcomes, RemoveVersionItem, WriteItem } from '../batch-types.js';
import type { SqliteDatabase, SqliteStatement } from './file.js';
import { VersionReads } from './version-reads.js';

const GRAPH_DDL = [
  'CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY) WITHOUT ROWID',
  `CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, content_sha256 TEXT NOT NULL,
     idx INTEGER NOT NULL, chunking INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID`,
  'CREATE INDEX IF NOT EXISTS chunks_by_version ON chunks (doc_id, content_sha256)',
  'CREATE TABLE IF NOT EXISTS entities (name TEXT PRIMARY KEY) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS mentions (chunk_id TEXT NOT NULL, entity TEXT NOT NULL, PRIMARY KEY (chunk_id, entity)) WITHOUT ROWID',
  'CREATE INDEX IF NOT EXISTS mentions_by_entity ON mentions (entity)',
];

export class SqliteGraphStore implements GraphStore, DerivedBatchWrites {
  readonly name = 'neo4j' as const;
  readonly backend = 'sqlite-graph';
  private readonly db: SqliteDatabase;
  private readonly file: string;
  /** Prepared once per statement text (sqlite-file.ts statementCache). */
  private readonly sql: (text: string) => SqliteStatement;
  private readonly reads: VersionReads;

  constructor(file: string) {
    this.file = file;
    this.db = openSqliteFile(file, GRAPH_DDL);
    // A file created before chunkings existed: its chunks become chunking 1 (SQLite has no ADD
    // COLUMN IF NOT EXISTS, hence the look at the table first).
    const columns = this.db.prepare('PRAGMA table_info(chunks)').all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'chunking')) this.db.exec('ALTER TABLE chunks ADD COLUMN chunking INTEGER NOT NULL DEFAULT 1');
    this.sql = statementCache(this.db);
    this.reads = new VersionReads(this.sql, {
      store: 'neo4j',
      table: 'chunks',
      chunkings: true,
      idsAfter: 'SELECT id FROM documents WHERE (? IS NULL OR id > ?) ORDER BY id LIMIT ?',
    });
  }

  async connect(): Promise<void> {
    // Schema is created when the file opens; nothing else to do.
  }

  async health(): Promise<HealthReport> {
    try {
      await runSqlite('neo4j', 'health', () => this.sql('SELECT 1').get());
      return { ok: true, detail: `sqlite-graph file ${this.file}` };
    } catch (err) {
      return { ok: false, detail: `sqlite-graph file ${this.file}: ${String(err)}` };
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  reclaim(_opts: { full: boolean }): Promise<string> {
    return runSqlite('neo4j', 'reclaim', () => vacuumFile(this.db));
  }

  writeVersion(v: DocumentVersion, _ctx?: WriteContext): Promise<void> {
    return runSqlite('neo4j', 'writeVersion', () => this.writeSync(v));
  }

  writeVersionBatch(items: readonly WriteItem[]): Outcomes {
    return runSqliteBatch('neo4j', 'writeVersionBatch', this.db, items, ({ v }) => this.writeSync(v));
  }

  removeVersionBatch(items: readonly RemoveVersionItem[]): Outcomes {
    return runSqliteBatch('neo4j', 'removeVersionBatch', this.db, items, (it) => this.removeChunks(it.docId, it.contentSha256));
  }

  private writeSync(v: DocumentVersion): void {
    this.db.transaction(() => {
      this.sql('INSERT OR IGNORE INTO documents (id) VALUES (?)').run(v.docId);
      const chunk = this.sql('INSERT OR REPLACE INTO chunks (id, doc_id, content_sha256, idx, chunking) VALUES (?, ?, ?, ?, ?)');
      const entity = this.sql('INSERT OR IGNORE INTO entities (name) VALUES (?)');
      const mention = this.sql('INSERT OR IGNORE INTO mentions (chunk_id, entity) VALUES (?, ?)');
      const k = chunkingOf(v);
      for (const c of v.chunks) {
        const id = graphChunkKey(v.docId, v.contentSha256, c.idx, k);
        chunk.run(id, v.docId, v.contentSha256, c.idx, k);
        for (const name of c.entities) {
          entity.run(name);
          mention.run(id, name);
        }
      }
    })();
  }

  /** Deletes chunks (all, one version's, or one chunking's), their mentions, orphaned entities and
   * an empty Document; returns how many chunks went. */
  private removeChunks(docId: string, contentSha256: string | null, chunking?: number): number {
    return this.db.transaction(() => {
      const where =
        chunking !== undefined
          ? 'doc_id = ? AND chunking = ?'
          : contentSha256 === null
            ? 'doc_id = ?'
            : 'doc_id = ? AND content_sha256 = ?';
      const args = chunking !== undefined ? [docId, chunking] : contentSha256 === null ? [docId] : [docId, contentSha256];
      const names = (
        this.sql(`SELECT DISTINCT entity AS name FROM mentions WHERE chunk_id IN (SELECT id FROM chunks WHERE ${where})`).all(
          ...args,
        ) as Array<{ name: string }>
      ).map((r) => r.name);
      this.sql(`DELETE FROM mentions WHERE chunk_id IN (SELECT id FROM chunks WHERE ${where})`).run(...args);
      const gone = this.sql(`DELETE FROM chunks WHERE ${where}`).run(...args).changes;
      const orphan = this.sql('DELETE FROM entities WHERE name = ? AND NOT EXISTS (SELECT 1 FROM mentions WHERE entity = ?)');
      for (const name of names) orphan.run(name, name);
      this.sql('DELETE FROM documents WHERE id = ? AND NOT EXISTS (SELECT 1 FROM chunks WHERE doc_id = ?)').run(docId, docId);
      return gone;
    })();
  }

  dropChunking(docIds: readonly string[], chunking: number): Promise<number> {
    return runSqlite('neo4j', 'dropChunking', () =>
      this.db.transaction(() => [...new Set(docIds)].reduce((n, id) => n + this.removeChunks(id, null, chunking), 0))(),
    );
  }

  removeVersion(docId: string, contentSha256: string, _ctx?: WriteContext): Promise<void> {
    return runSqlite('neo4j', 'removeVersion', () => {
      this.removeChunks(docId, contentSha256);
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
    // The delete saga's removal: the WAL's old page images go too (file.ts truncateWal).
    return runSqlite('neo4j', 'removeDocument', () => {
      this.removeChunks(docId, null);
      truncateWal(this.db);
    });
  }

  entities(docId: string, contentSha256: string): Promise<string[]> {
    return runSqlite('neo4j', 'entities', () =>
      (
        this.sql(
          `SELECT DISTINCT m.entity AS name FROM mentions m JOIN chunks c ON c.id = m.chunk_id
       WHERE c.doc_id = ? AND c.content_sha256 = ? ORDER BY m.entity`,
        ).all(docId, contentSha256) as Array<{ name: string }>
      ).map((r) => r.name),
    );
  }
}

/** Opens (creating if needed) the graph stand-in at `file` (e.g. `.apex/graph.db`). */
export async function openSqliteGraph(file: string): Promise<SqliteGraphStore> {
  return new SqliteGraphStore(file);
}
