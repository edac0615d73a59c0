// The chunking column's migration (docs/reindex.md "Re-chunking"): a documents database and a graph
// stand-in file created by the schema before chunkings existed are brought to the new key by
// connect() (PostgreSQL, PGlite) or by opening the file (SQLite graph): the old rows become
// chunking 1, a second chunking can be written beside them, and a second connect changes nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import Database from 'better-sqlite3';
import { createPglite } from '../../src/stores/pglite/template.js';
import { openPgliteRelational } from '../../src/stores/pglite/relational-store.js';
import { createPostgresStore } from '../../src/stores/postgres/relational-store.js';
import { openSqliteGraph } from '../../src/stores/sqlite/graph-store.js';
import type { RelationalStore } from '../../src/stores/types.js';
import { ctxFor, makeVersion } from '../support/conformance/fixtures.js';
import { rechunked } from '../support/conformance/chunkings.js';
import { testServices } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'apex-chunkings-migration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The tables as the schema before chunkings created them, with one committed document. */
const OLD_SCHEMA = [
  `CREATE TABLE documents (id text PRIMARY KEY, title text NOT NULL, content_sha256 text NULL,
     ingestion_status text NOT NULL, saga_id text NULL, fencing_token bigint NOT NULL DEFAULT 0,
     metadata jsonb NOT NULL DEFAULT '{}'::jsonb, created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE TABLE chunks (doc_id text NOT NULL, content_sha256 text NOT NULL, idx integer NOT NULL, text text NOT NULL,
     PRIMARY KEY (doc_id, content_sha256, idx))`,
];
const old = makeVersion({ docId: 'old-doc', body: 'written before chunkings existed', chunkCount: 2 });
const OLD_ROWS: Array<[string, unknown[]]> = [
  [
    `INSERT INTO documents (id, title, content_sha256, ingestion_status, saga_id) VALUES ($1, $2, $3, 'committed', 'old-saga')`,
    [old.docId, old.title, old.contentSha256],
  ],
  ...old.chunks.map((c): [string, unknown[]] => [
    'INSERT INTO chunks (doc_id, content_sha256, idx, text) VALUES ($1, $2, $3, $4)',
    [old.docId, old.contentSha256, c.idx, c.text],
  ]),
];

/** After the migration: the old rows read as chunking 1, and chunking 2 fits beside them. */
async function checkMigrated(store: RelationalStore): Promise<void> {
  const texts = old.chunks.map((c) => ({ idx: c.idx, text: c.text }));
  assert.deepEqual(await store.getChunks(old.docId, old.contentSha256), texts);
  const ctx = ctxFor('new-saga');
  await store.putPending(rechunked(old, 2, 3), ctx); // refused by the old key: (doc, sha, idx) repeats
  await store.release(old.docId, ctx);
  assert.equal((await store.getChunks(old.docId, old.contentSha256, 2)).length, 3);
  assert.deepEqual(await store.getChunks(old.docId, old.contentSha256, 1), texts);
  assert.equal((await store.getDocument(old.docId))?.contentSha256, old.contentSha256);
}

void it('PGlite: a database with the old chunks key is migrated by connect(), idempotently', async () => {
  const path = join(dir, 'pglite');
  const before = await createPglite(path); // from the cached initdb template: seconds, not an initdb
  for (const ddl of OLD_SCHEMA) await before.query(ddl);
  for (const [sql, params] of OLD_ROWS) await before.query(sql, params);
  await before.close();
  const store = await openPgliteRelational(path); // connects
  try {
    await checkMigrated(store);
    await store.connect(); // a second connect: nothing to do
    assert.equal((await store.getChunks(old.docId, old.contentSha256, 2)).length, 3);
  } finally {
    await store.close();
  }
});

void it('PostgreSQL: a schema with the old chunks key is migrated by connect(), idempotently', async () => {
  const url = testServices().databaseUrl;
  const schema = `apex_mig_${randomUUID().slice(0, 8)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.query(`SET search_path = ${schema}`);
    for (const ddl of OLD_SCHEMA) await admin.query(ddl);
    for (const [sql, params] of OLD_ROWS) await admin.query(sql, params);
    const store = createPostgresStore({ url, timeoutMs: 10_000, schema });
    try {
      await store.connect();
      await checkMigrated(store);
      await store.connect();
      const key = await admin.query<{ def: string }>(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${schema}.chunks'::regclass AND contype = 'p'`,
      );
      assert.equal(key.rows[0]?.def, 'PRIMARY KEY (doc_id, content_sha256, chunking, idx)');
    } finally {
      await store.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});

void it('SQLite graph stand-in: a file with the old chunks table gains the chunking column on open', async () => {
  const file = join(dir, 'graph.db');
  const db = new Database(file);
  db.exec(`CREATE TABLE documents (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TABLE chunks (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, content_sha256 TEXT NOT NULL, idx INTEGER NOT NULL) WITHOUT ROWID;`);
  db.prepare('INSERT INTO documents (id) VALUES (?)').run(old.docId);
  for (const c of old.chunks) {
    db.prepare('INSERT INTO chunks (id, doc_id, content_sha256, idx) VALUES (?, ?, ?, ?)').run(
      `${old.docId}:${old.contentSha256}:${c.idx}`,
      old.docId,
      old.contentSha256,
      c.idx,
    );
  }
  db.close();
  const graph = await openSqliteGraph(file);
  try {
    assert.deepEqual(await graph.listVersions(old.docId), [{ docId: old.docId, contentSha256: old.contentSha256, chunkCount: 2 }]);
    await graph.writeVersion(rechunked(old, 2, 3), ctxFor('s'));
    assert.deepEqual(await graph.listVersions(old.docId), [
      { docId: old.docId, contentSha256: old.contentSha256, chunkCount: 2 },
      { docId: old.docId, contentSha256: old.contentSha256, chunkCount: 3, chunking: 2 },
    ]);
  } finally {
    await graph.close();
  }
  const again = await openSqliteGraph(file); // a second open: the column is there, nothing to do
  await again.close();
});
