// Batched forms of the hot fenced writes (functions.ts) for the store group commit: one call
// carries the same write of many sagas, each on its own document. Each member runs the very same
// per-document function inside its own EXCEPTION block (a subtransaction), so a member that is
// fenced, busy, in conflict or bad rolls back alone and reports its SQLSTATE; the others commit.
// A member refused busy, in conflict or without a pending version keeps its fence raise (raised
// again after its rollback, in the member's turn of the document order).
//
// Lock order: members run in document-id order (COLLATE "C"), so two concurrent batches take
// their documents' rows in the same order and cannot deadlock on each other. A per-document call
// holds one document only, so it cannot close a cycle with a batch.
//
// A statement timeout or cancel (57014) is not caught (WHEN OTHERS excludes QUERY_CANCELED): it
// fails the whole batch, which rolls back as one transaction, and every member's outcome is then
// "in doubt" like a timed-out call (nothing applied, in fact).
//
// Items are one jsonb array (parameterized: no SQL is built from data). Returned: one row per
// member, n = its 0-based index in the array, err_state/err_message/err_detail when it failed.

const RESULT = 'TABLE (n integer, previous text, err_state text, err_message text, err_detail text)';

/** The loop every batch function shares; `body` assigns `previous` (or not) from r.item. */
function batchFunction(name: string, body: string): string {
  return `CREATE OR REPLACE FUNCTION ${name}(p_items jsonb) RETURNS ${RESULT}
LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT (x.ord - 1)::integer AS ord, x.item FROM jsonb_array_elements(p_items) WITH ORDINALITY AS x(item, ord)
           ORDER BY x.item->>'doc' COLLATE "C", x.ord
  LOOP
    n := r.ord; previous := NULL; err_state := NULL; err_message := NULL; err_detail := NULL;
    BEGIN
      ${body}
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT, err_detail = PG_EXCEPTION_DETAIL;
    END;
    -- Refused after its fence check passed: the member's rollback took its fence raise with it;
    -- raise it again, in the batch's transaction (functions.ts, apex_raise_fence: why).
    IF err_state IN ('AXB01', 'AXC01', 'AXP01') THEN
      PERFORM apex_raise_fence(r.item->>'doc', r.item->>'saga', (r.item->>'token')::bigint);
    END IF;
    RETURN NEXT;
  END LOOP;
END
$fn$`;
}

const PUT_PENDING_BATCH = batchFunction(
  'apex_put_pending_batch',
  `previous := apex_put_pending(r.item->>'doc', r.item->>'sha', r.item->>'title', r.item->'metadata', r.item->'chunks',
        r.item->>'saga', (r.item->>'token')::bigint);`,
);

const COMMIT_BATCH = batchFunction(
  'apex_commit_batch',
  `PERFORM apex_commit(r.item->>'doc', r.item->>'sha', r.item->>'saga', (r.item->>'token')::bigint,
        (r.item->>'check')::boolean, r.item->>'expected');`,
);

const FINISH_BATCH = batchFunction(
  'apex_finish_version_batch',
  `PERFORM apex_finish_version(r.item->>'doc', r.item->>'previous', r.item->>'saga', (r.item->>'token')::bigint);`,
);

/** Run after FUNCTION_STATEMENTS (they call the per-document functions). */
export const BATCH_FUNCTION_STATEMENTS: readonly string[] = [PUT_PENDING_BATCH, COMMIT_BATCH, FINISH_BATCH];

/** One row of a batch function's result. */
export interface BatchRow {
  n: number;
  previous: string | null;
  err_state: string | null;
  err_message: string | null;
  err_detail: string | null;
}
