// Collections and aliases of the embedded vector stand-in (issue 25, docs/stores.md "Collections
// and aliases"), in the same SQLite file as the points: a table per collection (the default
// collection `apex_chunks` keeps the table `points` of files made before collections existed, so
// an old file needs no migration), a catalog table with each collection's dimension, and an alias
// table. Every change is one SQLite transaction; a reader in another process sees the alias
// before or after a switch, never between.
//
// It follows Qdrant where Qdrant is clear: a name is a collection or an alias, never both; an alias
// points at an existing collection. It is stricter where our interface asks: dropping a collection
// an alias points at is refused (Qdrant would drop the alias with it).
import { checkCollectionName, checkDimension } from '../collection-names.js';
import { StoreError } from '../errors.js';
import type { SqliteDatabase, SqliteStatement } from './file.js';

export const DEFAULT_COLLECTION = 'apex_chunks';

export const CATALOG_DDL = [
  'CREATE TABLE IF NOT EXISTS vector_collections (name TEXT PRIMARY KEY, dimension INTEGER NOT NULL) WITHOUT ROWID',
  'CREATE TABLE IF NOT EXISTS vector_aliases (alias TEXT PRIMARY KEY, collection TEXT NOT NULL) WITHOUT ROWID',
];

/** A quoted SQL identifier (collection names cannot contain `"`; doubled anyway). */
export function quoted(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

/** The points table of a collection: `points` for the default one, `points:<name>` otherwise
 * (`:` is not allowed in a collection name, so no two names share a table). */
export function tableOf(collection: string): string {
  return collection === DEFAULT_COLLECTION ? 'points' : `points:${collection}`;
}

function tableDdl(collection: string): string[] {
  const t = tableOf(collection);
  return [
    `CREATE TABLE IF NOT EXISTS ${quoted(t)} (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, content_sha256 TEXT NOT NULL,
     idx INTEGER NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID`,
    `CREATE INDEX IF NOT EXISTS ${quoted(`${t}_by_version`)} ON ${quoted(t)} (doc_id, content_sha256)`,
  ];
}

/** Where a store bound to a name reads and writes now. */
export interface VectorTarget {
  collection: string;
  table: string;
  dimension: number;
}

const conflict = (message: string): StoreError => new StoreError('qdrant', 'STORE_CONFLICT', message, { retryable: false });

export class VectorCatalog {
  constructor(
    private readonly db: SqliteDatabase,
    private readonly sql: (text: string) => SqliteStatement,
  ) {}

  /** Registers the default collection of a file opened by a store of `dimension` (first opener wins). */
  registerDefault(dimension: number): void {
    for (const s of tableDdl(DEFAULT_COLLECTION)) this.db.exec(s);
    this.sql('INSERT OR IGNORE INTO vector_collections (name, dimension) VALUES (?, ?)').run(DEFAULT_COLLECTION, dimension);
  }

  aliasTarget(alias: string): string | undefined {
    const row = this.sql('SELECT collection FROM vector_aliases WHERE alias = ?').get(alias) as { collection: string } | undefined;
    return row?.collection;
  }

  private dimensionOf(collection: string): number | undefined {
    const row = this.sql('SELECT dimension FROM vector_collections WHERE name = ?').get(collection) as { dimension: number } | undefined;
    return row?.dimension;
  }

  /** The collection `name` names now (through an alias), or undefined when there is none. */
  resolve(name: string): VectorTarget | undefined {
    const collection = this.aliasTarget(name) ?? name;
    const dimension = this.dimensionOf(collection);
    return dimension === undefined ? undefined : { collection, table: tableOf(collection), dimension };
  }

  ensure(name: string, dimension: number): void {
    const what = 'ensureCollection';
    checkCollectionName(what, 'name', name);
    checkDimension(what, dimension);
    this.db.transaction(() => {
      if (this.aliasTarget(name) !== undefined) throw conflict(`${what}: ${name} is an alias, not a collection`);
      const existing = this.dimensionOf(name);
      if (existing !== undefined && existing !== dimension) {
        throw conflict(`${what}: collection ${name} exists with dimension ${existing}, not ${dimension}`);
      }
      if (existing === undefined) this.sql('INSERT INTO vector_collections (name, dimension) VALUES (?, ?)').run(name, dimension);
      for (const s of tableDdl(name)) this.db.exec(s);
    })();
  }

  drop(name: string): void {
    const what = 'dropCollection';
    checkCollectionName(what, 'name', name);
    this.db.transaction(() => {
      if (this.aliasTarget(name) !== undefined) throw conflict(`${what}: ${name} is an alias, not a collection (deleteAlias removes it)`);
      const by = (
        this.sql('SELECT alias FROM vector_aliases WHERE collection = ? ORDER BY alias').all(name) as Array<{ alias: string }>
      ).map((r) => r.alias);
      if (by.length > 0) throw conflict(`${what}: alias ${by.join(', ')} points at collection ${name}; move or delete it first`);
      this.sql('DELETE FROM vector_collections WHERE name = ?').run(name);
      this.db.exec(`DROP TABLE IF EXISTS ${quoted(tableOf(name))}`);
    })();
  }

  list(): Array<{ name: string; dimension: number; points: number }> {
    const rows = this.sql('SELECT name, dimension FROM vector_collections ORDER BY name').all() as Array<{
      name: string;
      dimension: number;
    }>;
    return rows.map((r) => ({
      name: r.name,
      dimension: r.dimension,
      points: (this.sql(`SELECT COUNT(*) AS n FROM ${quoted(tableOf(r.name))}`).get() as { n: number }).n,
    }));
  }

  setAlias(alias: string, collection: string): void {
    const what = 'setAlias';
    checkCollectionName(what, 'alias', alias);
    checkCollectionName(what, 'collection', collection);
    this.db.transaction(() => {
      if (this.dimensionOf(collection) === undefined) {
        throw new StoreError('qdrant', 'STORE_PERMANENT', `${what}: collection ${collection} does not exist`, { retryable: false });
      }
      if (this.dimensionOf(alias) !== undefined) throw conflict(`${what}: ${alias} is a collection; an alias cannot take its name`);
      this.sql(
        'INSERT INTO vector_aliases (alias, collection) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET collection = excluded.collection',
      ).run(alias, collection);
    })();
  }

  deleteAlias(alias: string): void {
    checkCollectionName('deleteAlias', 'alias', alias);
    this.sql('DELETE FROM vector_aliases WHERE alias = ?').run(alias);
  }

  listAliases(): Array<{ alias: string; collection: string }> {
    return this.sql('SELECT alias, collection FROM vector_aliases ORDER BY alias').all() as Array<{ alias: string; collection: string }>;
  }
}
