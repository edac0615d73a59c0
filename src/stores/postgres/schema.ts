// The relational schema, shared verbatim by the PostgreSQL adapter and the PGlite stand-in so both
// hold exactly the same data contract (DESIGN "Data contract": PostgreSQL).
//
// documents          one row per document; content_sha256 = the committed version (null until one
//                    commits), so readers join chunks on it and never see an in-flight version.
// document_versions  versions in flight (state 'pending'): an update writes here and into chunks
//                    beside the committed version; commit promotes it and deletes the row.
// chunks             every version's chunks, keyed by (doc_id, content_sha256, chunking, idx): a
//                    re-chunking reindex (docs/reindex.md) writes a second chunking of each version
//                    beside the serving one. Rows written before chunkings existed are chunking 1.
// write_fences       the highest fencing token each saga has written a document with. It outlives
//                    the rows above, so a stale owner whose write arrives after the new owner
//                    compensated (and found nothing to remove) is still refused.
// document_locks     the single-writer rule: at most one unfinished saga holds a document. A saga
//                    takes the row with its first write and gives it back with its last one (its
//                    final step, or the compensation of its first step). While another saga holds
//                    it, writes are refused with STORE_BUSY, so no saga ever removes data that
//                    another saga wrote or a committed version needs (docs/documents.md).
// saga_inputs        content by reference (docs/erasure.md): a saga's document content (title,
//                    text, metadata), staged by the front before the saga begins and removed when
//                    it ends, so the saga log never holds content. Keyed by saga id, not by hash:
//                    removing one saga's row can never take content another saga still needs.
// erasures           the erasure receipt's record: which delete saga erased a document, when (ids
//                    only, kept for audit like write_fences; `verify --erased` reads it).
// index_state        the active index record (docs/reindex.md): one row, the JSON state of the
//                    vector index (active/next/previous targets, phase) and a version that every
//                    change compares and sets.

/**
 * A table created before chunkings existed: its rows become chunking 1 (a constant default is a
 * catalog change, no rewrite), and the primary key gains the column (rebuilding the index: a lock
 * on chunks while it runs, once). Idempotent: the key is only rebuilt while it lacks `chunking`.
 * Processes of an older release must be stopped first: their connect() would put back functions
 * whose ON CONFLICT names the old key.
 */
const CHUNKING_MIGRATION: readonly string[] = [
  // Inside checks, not ALTER ... IF NOT EXISTS: an ALTER TABLE takes its ACCESS EXCLUSIVE lock before
  // it looks, at every connect(), and a worker starting beside running ones then deadlocked with
  // their writes (chunks, then documents: the fleet takeover test through PgBouncer, rehearsal).
  `DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'chunks'::regclass AND attname = 'chunking' AND NOT attisdropped) THEN
    ALTER TABLE chunks ADD COLUMN chunking integer NOT NULL DEFAULT 1;
  END IF;
END
$do$`,
  `DO $do$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_constraint AS c JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
    WHERE c.conrelid = 'chunks'::regclass AND c.contype = 'p' AND a.attname = 'chunking'
  ) THEN
    ALTER TABLE chunks DROP CONSTRAINT IF EXISTS chunks_pkey;
    ALTER TABLE chunks ADD CONSTRAINT chunks_pkey PRIMARY KEY (doc_id, content_sha256, chunking, idx);
  END IF;
END
$do$`,
];

/** Serializes concurrent connect() calls across processes (arbitrary, fixed key). */
export const SCHEMA_LOCK_KEY = 7_340_021_913;

export const SCHEMA_STATEMENTS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS documents (
     id               text PRIMARY KEY,
     title            text NOT NULL,
     content_sha256   text NULL,
     ingestion_status text NOT NULL
       CONSTRAINT documents_status_check CHECK (ingestion_status IN ('pending', 'committed', 'failed', 'deleting')),
     saga_id          text NULL,
     fencing_token    bigint NOT NULL DEFAULT 0,
     metadata         jsonb NOT NULL DEFAULT '{}'::jsonb,
     created_at       timestamptz NOT NULL DEFAULT now(),
     updated_at       timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS document_versions (
     doc_id         text NOT NULL,
     content_sha256 text NOT NULL,
     title          text NOT NULL,
     metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
     saga_id        text NOT NULL,
     fencing_token  bigint NOT NULL DEFAULT 0,
     state          text NOT NULL DEFAULT 'pending' CONSTRAINT document_versions_state_check CHECK (state IN ('pending')),
     created_at     timestamptz NOT NULL DEFAULT now(),
     PRIMARY KEY (doc_id, content_sha256)
   )`,
  `CREATE TABLE IF NOT EXISTS chunks (
     doc_id         text NOT NULL,
     content_sha256 text NOT NULL,
     chunking       integer NOT NULL DEFAULT 1,
     idx            integer NOT NULL,
     text           text NOT NULL,
     CONSTRAINT chunks_pkey PRIMARY KEY (doc_id, content_sha256, chunking, idx)
   )`,
  ...CHUNKING_MIGRATION,
  `CREATE TABLE IF NOT EXISTS document_locks (
     doc_id      text PRIMARY KEY,
     saga_id     text NOT NULL,
     acquired_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS write_fences (
     doc_id        text NOT NULL,
     saga_id       text NOT NULL,
     fencing_token bigint NOT NULL,
     PRIMARY KEY (doc_id, saga_id)
   )`,
  // documents.saga_id names the saga that committed the row (issue 22), or the saga in flight on a
  // row that has no committed version ('pending') or is being deleted ('deleting'). While a delete
  // holds the row, the committer waits here, and a compensated delete puts it back.
  // Inside a check, like the chunking column: ALTER TABLE locks before it looks (see above).
  `DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'documents'::regclass AND attname = 'committed_saga_id' AND NOT attisdropped) THEN
    ALTER TABLE documents ADD COLUMN committed_saga_id text NULL;
  END IF;
END
$do$`,
  `CREATE TABLE IF NOT EXISTS saga_inputs (
     saga_id    text PRIMARY KEY,
     doc_id     text NOT NULL,
     content    jsonb NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now()
   )`,
  'CREATE INDEX IF NOT EXISTS saga_inputs_by_doc ON saga_inputs (doc_id)',
  'CREATE INDEX IF NOT EXISTS saga_inputs_by_age ON saga_inputs (created_at)',
  `CREATE TABLE IF NOT EXISTS erasures (
     doc_id    text PRIMARY KEY,
     saga_id   text NOT NULL,
     erased_at timestamptz NOT NULL DEFAULT now()
   )`,
  `CREATE TABLE IF NOT EXISTS index_state (
     id         smallint PRIMARY KEY CONSTRAINT index_state_one_row CHECK (id = 1),
     version    bigint NOT NULL,
     state      jsonb NOT NULL,
     updated_at timestamptz NOT NULL DEFAULT now()
   )`,
];
