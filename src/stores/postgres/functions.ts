// The hot fenced writes as PL/pgSQL functions: one round trip (one statement, its own implicit
// transaction) instead of BEGIN + 6-9 statements + COMMIT. The bodies are the statements that
// postgres/sql-store.ts / postgres/locks.ts ran one by one, in the same order and under the same
// row locks; PL/pgSQL takes a fresh snapshot per statement (READ COMMITTED), exactly as separate
// statements in one transaction did. An error raised anywhere rolls the whole call back.
//
// Why: PGlite (the embedded profile) runs one statement at a time, each costing 0.2-0.5 ms of
// WebAssembly parse/plan/protocol work, and the ingest's three transactions were ~85% of its time
// (docs/performance.md, "Embedded profile"). PL/pgSQL plans its statements once per session. On a
// PostgreSQL server the same functions save the round trips.
//
// Errors are raised with this project's own SQLSTATEs (class AX, unused by PostgreSQL) and turned
// back into the typed StoreErrors by postgres/locks.ts (takeErrorOf):
//   AXF01 stale fencing token (STORE_FENCED)      AXB01 held by another saga, DETAIL = holder (STORE_BUSY)
//   AXC01 commit conflict, DETAIL = current sha or '' (STORE_CONFLICT)
//   AXP01 commit without a pending version (STORE_PERMANENT)
//
// A refusal after apex_take raised the fence (AXB01, AXC01, AXP01) rolls the raise back with the
// rest of the call, yet what the raise says stays true: a newer owner of this saga exists. Left
// low, the fence let a lost owner with the older token take the document after the newer owner
// had ended the saga (busy at its take), so the document stayed held by an ended saga. The caller
// therefore raises it again by itself (apex_raise_fence): postgres/locks.ts keepFenceRaised for a
// per-document call, the batch functions per member (batch-functions.ts).

/** Shared by every fenced write: lock the row, check fencing, take or confirm the document.
 * Returns the committed version as found under the row lock (null: none, or no row). */
const TAKE = `CREATE OR REPLACE FUNCTION apex_take(p_doc text, p_saga text, p_token bigint) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  v_sha text;
  v_holder text;
BEGIN
  SELECT d.content_sha256 INTO v_sha FROM documents AS d WHERE d.id = p_doc FOR UPDATE;
  -- Raises this saga's fence to our token, or changes nothing when a newer token already wrote:
  -- the fence survives even when the newer owner's compensation found nothing to delete.
  INSERT INTO write_fences AS f (doc_id, saga_id, fencing_token) VALUES (p_doc, p_saga, p_token)
    ON CONFLICT (doc_id, saga_id) DO UPDATE SET fencing_token = EXCLUDED.fencing_token
      WHERE f.fencing_token <= EXCLUDED.fencing_token;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'stale fencing token' USING ERRCODE = 'AXF01';
  END IF;
  IF EXISTS (SELECT 1 FROM documents AS d WHERE d.id = p_doc AND d.saga_id = p_saga AND d.fencing_token > p_token)
     OR EXISTS (SELECT 1 FROM document_versions AS v WHERE v.doc_id = p_doc AND v.saga_id = p_saga AND v.fencing_token > p_token) THEN
    RAISE EXCEPTION 'stale fencing token' USING ERRCODE = 'AXF01';
  END IF;
  -- The single-writer rule: take the document, or confirm that this saga holds it. The unique
  -- key orders concurrent takers: the second waits for the first's transaction, then sees its row.
  INSERT INTO document_locks AS l (doc_id, saga_id) VALUES (p_doc, p_saga)
    ON CONFLICT (doc_id) DO UPDATE SET saga_id = l.saga_id WHERE l.saga_id = p_saga;
  IF NOT FOUND THEN
    SELECT l.saga_id INTO v_holder FROM document_locks AS l WHERE l.doc_id = p_doc;
    RAISE EXCEPTION 'document is held by another saga' USING ERRCODE = 'AXB01', DETAIL = coalesce(v_holder, 'another saga');
  END IF;
  RETURN v_sha;
END
$fn$`;

/** Raises this saga's fence to p_token, or changes nothing when a newer token already wrote; never
 * refuses (a refusal is what it follows). The same upsert as apex_take's, alone. */
const RAISE_FENCE = `CREATE OR REPLACE FUNCTION apex_raise_fence(p_doc text, p_saga text, p_token bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO write_fences AS f (doc_id, saga_id, fencing_token) VALUES (p_doc, p_saga, p_token)
    ON CONFLICT (doc_id, saga_id) DO UPDATE SET fencing_token = EXCLUDED.fencing_token
      WHERE f.fencing_token <= EXCLUDED.fencing_token;
END
$fn$`;

/** putPending: the pending version and its chunks; returns the version committed when it ran. */
const PUT_PENDING = `CREATE OR REPLACE FUNCTION apex_put_pending(p_doc text, p_sha text, p_title text, p_metadata jsonb,
  p_chunks jsonb, p_saga text, p_token bigint) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
  v_before text;
BEGIN
  PERFORM apex_take(p_doc, p_saga, p_token);
  -- Read again after taking the document (as the statement-by-statement version did), not the
  -- value apex_take saw before its inserts: the same under the row lock, and exact without one.
  SELECT d.content_sha256 INTO v_before FROM documents AS d WHERE d.id = p_doc;
  -- A committed document keeps its visible title/metadata/status until the new version commits.
  INSERT INTO documents AS d (id, title, content_sha256, ingestion_status, saga_id, fencing_token, metadata)
  VALUES (p_doc, p_title, NULL, 'pending', p_saga, p_token, p_metadata)
  ON CONFLICT (id) DO UPDATE SET
    title = CASE WHEN d.content_sha256 IS NULL THEN EXCLUDED.title ELSE d.title END,
    metadata = CASE WHEN d.content_sha256 IS NULL THEN EXCLUDED.metadata ELSE d.metadata END,
    ingestion_status = CASE WHEN d.content_sha256 IS NULL THEN 'pending' ELSE d.ingestion_status END,
    -- A committed row keeps naming its committer (issue 22): an update in flight is named by its
    -- document_versions row, and one that compensates must leave no trace here.
    saga_id = CASE WHEN d.content_sha256 IS NULL THEN EXCLUDED.saga_id ELSE d.saga_id END,
    fencing_token = CASE WHEN d.content_sha256 IS NULL THEN EXCLUDED.fencing_token ELSE d.fencing_token END,
    updated_at = now();
  -- Re-writing the already committed version needs no pending row (commit would be a no-op).
  INSERT INTO document_versions AS v (doc_id, content_sha256, title, metadata, saga_id, fencing_token)
  SELECT p_doc, p_sha, p_title, p_metadata, p_saga, p_token
  WHERE NOT EXISTS (SELECT 1 FROM documents AS d WHERE d.id = p_doc AND d.content_sha256 = p_sha)
  ON CONFLICT (doc_id, content_sha256) DO UPDATE SET title = EXCLUDED.title, metadata = EXCLUDED.metadata,
    saga_id = EXCLUDED.saga_id, fencing_token = EXCLUDED.fencing_token;
  -- Each chunk names its chunking (absent: 1, as callers before chunkings sent them).
  INSERT INTO chunks AS k (doc_id, content_sha256, chunking, idx, text)
  SELECT p_doc, p_sha, coalesce(c.chunking, 1), c.idx, c.text
  FROM jsonb_to_recordset(p_chunks) AS c(idx integer, text text, chunking integer)
  ON CONFLICT (doc_id, content_sha256, chunking, idx) DO UPDATE SET text = EXCLUDED.text;
  RETURN v_before;
END
$fn$`;

/** commit (the pivot): promotes the pending version; idempotent; p_check: compare with p_expected. */
const COMMIT = `CREATE OR REPLACE FUNCTION apex_commit(p_doc text, p_sha text, p_saga text, p_token bigint,
  p_check boolean, p_expected text) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  v_current text;
BEGIN
  PERFORM apex_take(p_doc, p_saga, p_token);
  -- The row is locked here: no commit can slip in between this check and the update.
  IF p_check THEN
    SELECT d.content_sha256 INTO v_current FROM documents AS d WHERE d.id = p_doc;
  END IF;
  IF p_check AND v_current IS DISTINCT FROM p_expected AND v_current IS DISTINCT FROM p_sha THEN
    RAISE EXCEPTION 'document changed meanwhile' USING ERRCODE = 'AXC01', DETAIL = coalesce(v_current, '');
  END IF;
  UPDATE documents AS d SET content_sha256 = v.content_sha256, title = v.title, metadata = v.metadata,
    ingestion_status = 'committed', saga_id = p_saga, fencing_token = p_token, updated_at = now()
  FROM document_versions AS v
  WHERE d.id = p_doc AND v.doc_id = p_doc AND v.content_sha256 = p_sha;
  IF FOUND THEN
    DELETE FROM document_versions AS v WHERE v.doc_id = p_doc AND v.content_sha256 = p_sha;
    RETURN;
  END IF;
  SELECT d.content_sha256 INTO v_current FROM documents AS d WHERE d.id = p_doc;
  IF v_current IS NOT DISTINCT FROM p_sha THEN
    RETURN; -- already committed: idempotent repeat
  END IF;
  RAISE EXCEPTION 'no pending version' USING ERRCODE = 'AXP01';
END
$fn$`;

/** finishVersion (a saga's last write) and release (p_previous null): removes the replaced
 * version (never the committed one) and gives the document back. */
const FINISH = `CREATE OR REPLACE FUNCTION apex_finish_version(p_doc text, p_previous text, p_saga text, p_token bigint) RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM apex_take(p_doc, p_saga, p_token);
  IF p_previous IS NOT NULL THEN
    DELETE FROM chunks AS k WHERE k.doc_id = p_doc AND k.content_sha256 = p_previous
      AND NOT EXISTS (SELECT 1 FROM documents AS d WHERE d.id = p_doc AND d.content_sha256 = p_previous);
    DELETE FROM document_versions AS v WHERE v.doc_id = p_doc AND v.content_sha256 = p_previous;
  END IF;
  DELETE FROM document_locks AS l WHERE l.doc_id = p_doc AND l.saga_id = p_saga;
END
$fn$`;

/** Run after the tables (postgres-schema.ts); CREATE OR REPLACE keeps an existing database current. */
export const FUNCTION_STATEMENTS: readonly string[] = [TAKE, RAISE_FENCE, PUT_PENDING, COMMIT, FINISH];
