// The embedding cache's statements (EmbeddingCacheStore, docs/stores.md "Embedding cache"), shared
// by the PostgreSQL adapter and the PGlite stand-in (postgres/sql-store.ts delegates here).
//
// embedding_cache (model, dimension, text_sha256) -> the vector, as little-endian float64 bytes
//   (exactly what the model answered: a cached vector equals a fresh one).
// embedding_uses (doc_id, content_sha256, text_sha256): the document versions that keep an entry
//   alive. A use is recorded before the cache is read, and with every vector stored; an entry is
//   removed only in the transaction that removes its last use. So an entry exists only while some
//   version names its hash, and forgetting a document erases exactly the vectors of text that no
//   other document (or other version) uses.
//
// Why the lock in forget: two documents sharing a chunk, deleted at once, would each see the
// other's use (neither delete committed yet) and both keep the entry, leaving it with no use. Each
// forget first locks the entries it may remove (in one order: no deadlock), then checks for uses
// in a new statement, which sees what the other forget committed meanwhile.
import type { EmbeddingModel, EmbeddingUse } from '../types.js';
import type { SqlDatabase, SqlExecutor } from './sql-store.js';

export const EMBEDDING_CACHE_SCHEMA: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS embedding_cache (
     text_sha256 text NOT NULL,
     model       text NOT NULL,
     dimension   integer NOT NULL,
     embedding   bytea NOT NULL,
     created_at  timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (text_sha256, model, dimension)
   )`,
  `CREATE TABLE IF NOT EXISTS embedding_uses (
     doc_id         text NOT NULL,
     content_sha256 text NOT NULL,
     text_sha256    text NOT NULL,
     PRIMARY KEY (doc_id, content_sha256, text_sha256)
   )`,
  'CREATE INDEX IF NOT EXISTS embedding_uses_by_text ON embedding_uses (text_sha256)',
];

/** A vector as little-endian float64 bytes, hex (one text parameter works on pg and PGlite alike). */
export function encodeVector(v: readonly number[]): string {
  const buf = Buffer.alloc(v.length * 8);
  v.forEach((x, i) => buf.writeDoubleLE(x, i * 8));
  return buf.toString('hex');
}

export function decodeVector(hex: string): number[] {
  const buf = Buffer.from(hex, 'hex');
  const out = new Array<number>(buf.length >> 3);
  for (let i = 0; i < out.length; i++) out[i] = buf.readDoubleLE(i * 8);
  return out;
}

export async function lookupEmbeddings(
  db: SqlExecutor,
  use: EmbeddingUse,
  model: EmbeddingModel,
  hashes: readonly string[],
): Promise<Map<string, number[]>> {
  const unique = [...new Set(hashes)].sort();
  if (unique.length === 0) return new Map();
  // One statement: the use is recorded (so a concurrent forget keeps what we are about to use)
  // and the entries are read.
  const rows = await db.query<{ text_sha256: string; embedding: string }>(
    `WITH used AS (
       INSERT INTO embedding_uses (doc_id, content_sha256, text_sha256)
       SELECT $1, $2, h FROM unnest($3::text[]) AS h ON CONFLICT DO NOTHING
     )
     SELECT text_sha256, encode(embedding, 'hex') AS embedding FROM embedding_cache
     WHERE text_sha256 = ANY($3::text[]) AND model = $4 AND dimension = $5::integer`,
    [use.docId, use.contentSha256, unique, model.model, model.dimension],
  );
  return new Map(rows.map((r) => [r.text_sha256, decodeVector(r.embedding)]));
}

export async function putEmbeddings(
  db: SqlDatabase,
  use: EmbeddingUse,
  model: EmbeddingModel,
  entries: ReadonlyArray<{ textSha256: string; embedding: readonly number[] }>,
): Promise<void> {
  // Sorted by hash: two concurrent puts of overlapping entries insert in one order (no deadlock).
  const byHash = new Map(entries.map((e) => [e.textSha256, e.embedding]));
  const hashes = [...byHash.keys()].sort();
  if (hashes.length === 0) return;
  const vectors = hashes.map((h) => encodeVector(byHash.get(h) ?? []));
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO embedding_uses (doc_id, content_sha256, text_sha256)
       SELECT $1, $2, h FROM unnest($3::text[]) AS h ON CONFLICT DO NOTHING`,
      [use.docId, use.contentSha256, hashes],
    );
    await tx.query(
      `INSERT INTO embedding_cache (text_sha256, model, dimension, embedding)
       SELECT h, $3, $4::integer, decode(v, 'hex') FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS e(h, v, n)
       ORDER BY n ON CONFLICT DO NOTHING`,
      [hashes, vectors, model.model, model.dimension],
    );
  });
}

export async function forgetEmbeddings(
  db: SqlDatabase,
  docId: string,
  contentSha256: string | null,
  heldBy: string | undefined,
): Promise<number> {
  return db.transaction(async (tx) => {
    if (heldBy !== undefined) {
      // FOR SHARE: the holder cannot give the document back (and another saga take it and record
      // uses) until this forget has committed.
      const held = await tx.query('SELECT 1 FROM document_locks WHERE doc_id = $1 AND saga_id = $2 FOR SHARE', [docId, heldBy]);
      if (held.length === 0) return 0;
    }
    const uses = await tx.query<{ text_sha256: string }>(
      `SELECT DISTINCT text_sha256 FROM embedding_uses WHERE doc_id = $1 AND ($2::text IS NULL OR content_sha256 = $2::text)`,
      [docId, contentSha256],
    );
    if (uses.length === 0) return 0;
    const hashes = uses.map((u) => u.text_sha256).sort();
    await tx.query(
      `SELECT 1 FROM embedding_cache WHERE text_sha256 = ANY($1::text[])
       ORDER BY text_sha256, model, dimension FOR UPDATE`,
      [hashes],
    );
    await tx.query(`DELETE FROM embedding_uses WHERE doc_id = $1 AND ($2::text IS NULL OR content_sha256 = $2::text)`, [
      docId,
      contentSha256,
    ]);
    const gone = await tx.query<{ text_sha256: string }>(
      `DELETE FROM embedding_cache e WHERE e.text_sha256 = ANY($1::text[])
         AND NOT EXISTS (SELECT 1 FROM embedding_uses u WHERE u.text_sha256 = e.text_sha256)
       RETURNING e.text_sha256`,
      [hashes],
    );
    return gone.length;
  });
}
