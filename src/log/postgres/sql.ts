// The PostgreSQL saga log's statements. Each batch statement takes parallel arrays (unnest), so a
// whole group commit is one statement and one commit whatever its size. Callers pass the arrays
// sorted by saga id: the update then walks (and locks) rows in id order, so two concurrent batches
// do not deadlock; renew and release lock in id order explicitly. A deadlock that slips through
// anyway is detected by PostgreSQL and the batch is retried (postgres/batch.ts).
import type { ErrorInfo, SagaStatus, SagaSummary } from '../../saga/index.js';
import { NOW_MS } from './schema.js';

export const SUMMARY_COLUMNS = 'id, name, version, status, owner, fencing_token, lease_expires_at, created_at, updated_at, reason';
const FINAL = "('completed', 'compensated')";

export function logStatements(s: string) {
  return {
    /** Prepared-statement names (per connection); the schema is part of the text, so of the name. */
    names: { begin: `apex_saga_begin_${s.replace(/"/g, '')}`, append: `apex_saga_append_${s.replace(/"/g, '')}` },
    /**
     * $1 ids, $2 names, $3 versions, $4 statuses, $5 inputs, $6 owners, $7 tokens, $8 lease ms,
     * $9 record counts; $10..$13 one entry per first record: saga id, seq, type, record. The first
     * records are inserted only for the sagas this statement created, in the same commit.
     * $14 metas, $15 deadlines, $16 keys. Record times come from saga_records.at's default.
     */
    begin: `WITH created AS (
        INSERT INTO ${s}.sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, next_seq, meta, deadline_at, key)
        SELECT b.id, b.name, b.version, b.status, b.input::json, b.owner, b.token,
               CASE WHEN b.lease_ms IS NULL THEN NULL ELSE ${NOW_MS} + b.lease_ms END, ${NOW_MS}, ${NOW_MS}, b.n, b.meta::json, b.deadline, b.key
        FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::int[], $14::text[], $15::bigint[], $16::text[])
          AS b(id, name, version, status, input, owner, token, lease_ms, n, meta, deadline, key)
        ON CONFLICT (id) DO NOTHING
        RETURNING id
      ), first_records AS (
        INSERT INTO ${s}.saga_records (saga_id, seq, type, record)
        SELECT r.saga_id, r.seq, r.type, r.record::json
        FROM unnest($10::text[], $11::int[], $12::text[], $13::text[]) AS r(saga_id, seq, type, record)
        WHERE r.saga_id IN (SELECT id FROM created)
      )
      SELECT id FROM created`,

    summaries: `SELECT ${SUMMARY_COLUMNS} FROM ${s}.sagas WHERE id = ANY($1::text[])`,

    /**
     * Appends of many sagas at once. An append passes only if its token and first seq match the
     * saga's; its records are inserted only if it passed, so a rejected append writes nothing.
     * $1..$7 one entry per append: id, token, first seq, record count, status, reason, lease ms.
     * $8..$11 one entry per record: saga id, seq, type, record. Returns the ids that passed.
     */
    append: `WITH v AS (
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::text[], $6::text[], $7::bigint[])
          AS v(id, token, first_seq, n, status, reason, lease_ms)
      ), advanced AS (
        UPDATE ${s}.sagas g SET
          next_seq = g.next_seq + v.n,
          status = coalesce(v.status, g.status),
          reason = coalesce(v.reason::json, g.reason),
          lease_expires_at = CASE WHEN v.lease_ms IS NULL THEN g.lease_expires_at ELSE ${NOW_MS} + v.lease_ms END,
          updated_at = ${NOW_MS}
        FROM v
        WHERE g.id = v.id AND g.fencing_token = v.token AND g.next_seq = v.first_seq
        RETURNING g.id
      ), inserted AS (
        INSERT INTO ${s}.saga_records (saga_id, seq, type, record)
        SELECT r.saga_id, r.seq, r.type, r.record::json
        FROM unnest($8::text[], $9::int[], $10::text[], $11::text[]) AS r(saga_id, seq, type, record)
        WHERE r.saga_id IN (SELECT id FROM advanced)
      )
      SELECT id FROM advanced`,

    /** Retention: sagas that ended before $1 (epoch ms), oldest ended first, at most $2, with their records (index sagas_ended). */
    prune: `WITH doomed AS (
        SELECT id FROM ${s}.sagas WHERE ended_at < $1::bigint ORDER BY ended_at, id LIMIT $2 FOR UPDATE SKIP LOCKED
      ), gone_records AS (
        DELETE FROM ${s}.saga_records WHERE saga_id IN (SELECT id FROM doomed)
      ), gone AS (
        DELETE FROM ${s}.sagas WHERE id IN (SELECT id FROM doomed) RETURNING 1
      )
      SELECT count(*)::int AS n FROM gone`,

    appendState: `SELECT id, fencing_token, next_seq FROM ${s}.sagas WHERE id = ANY($1::text[])`,

    load: `SELECT ${SUMMARY_COLUMNS}, input, meta, deadline_at, key, ended_at, rr.records, rr.record_times
      FROM ${s}.sagas g CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(r.record ORDER BY r.seq), '[]'::json) AS records, coalesce(json_agg(r.at ORDER BY r.seq), '[]'::json) AS record_times
        FROM ${s}.saga_records r WHERE r.saga_id = g.id) rr
      WHERE g.id = $1`,

    owners: `SELECT owner, count(*)::int AS n FROM ${s}.sagas
      WHERE status IN ('running', 'compensating') AND owner IS NOT NULL AND lease_expires_at > ${NOW_MS} GROUP BY owner`,

    /** One saga by id: expired lease, or still held by the given (dead) owner and token, or forced. */
    claimOne: `UPDATE ${s}.sagas g SET owner = $2, fencing_token = g.fencing_token + 1,
        lease_expires_at = ${NOW_MS} + $3::bigint, updated_at = ${NOW_MS}
      FROM (SELECT id, owner AS prev_owner FROM ${s}.sagas WHERE id = $1 FOR UPDATE) c
      WHERE g.id = c.id AND g.status IN ('pending', 'running', 'compensating')
        AND (g.lease_expires_at IS NULL OR g.lease_expires_at <= ${NOW_MS} OR $4::boolean
             OR ($6::bigint IS NOT NULL AND g.fencing_token = $6 AND g.owner IS NOT DISTINCT FROM $5::text))
      RETURNING ${SUMMARY_COLUMNS.split(', ')
        .map((c) => `g.${c}`)
        .join(', ')}, c.prev_owner`,

    /**
     * Two queues, each walked from the head of its partial index (migration 4), so a claim visits
     * about `limit` rows whatever the backlog: sagas whose lease expired (or whose owner is dead),
     * by expiry, first; then pending ones in creation order. No Sort over the queue: each branch
     * reads at most $5 rows in index order, and only those (at most 2 x $5) are sorted.
     * SKIP LOCKED: concurrent claimers (other workers) pass over each other's rows, never share one.
     * $7 (dead owners) makes the first branch read all running rows: bounded by the fleet's
     * concurrency, not by the backlog.
     */
    claim: `WITH due AS (
        SELECT c.id, c.owner AS prev_owner, c.created_at, 0 AS prio FROM ${s}.sagas c
        WHERE c.status IN ('running', 'compensating')
          AND (coalesce(c.lease_expires_at, 0) <= ${NOW_MS}
               OR ($7::text[] IS NOT NULL AND c.owner = ANY($7::text[])))
          AND ($4::text[] IS NULL OR c.name = ANY($4::text[]))
          AND ($6::text[] IS NULL OR (c.name || '@' || c.version) = ANY($6::text[]))
        ORDER BY coalesce(c.lease_expires_at, 0), c.created_at, c.id
        LIMIT $5
        FOR UPDATE SKIP LOCKED
      ), queued AS (
        SELECT c.id, c.owner AS prev_owner, c.created_at, 1 AS prio FROM ${s}.sagas c
        WHERE $3::boolean AND c.status = 'pending'
          AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= ${NOW_MS})
          AND ($4::text[] IS NULL OR c.name = ANY($4::text[]))
          AND ($6::text[] IS NULL OR (c.name || '@' || c.version) = ANY($6::text[]))
        ORDER BY c.created_at, c.id
        LIMIT $5
        FOR UPDATE SKIP LOCKED
      ), picked AS (
        SELECT q.id, q.prev_owner FROM (SELECT * FROM due UNION ALL SELECT * FROM queued) q
        ORDER BY q.prio, q.created_at, q.id LIMIT $5
      )
      UPDATE ${s}.sagas g SET owner = $1, fencing_token = g.fencing_token + 1,
        lease_expires_at = ${NOW_MS} + $2::bigint, updated_at = ${NOW_MS}
      FROM picked c
      WHERE g.id = c.id
      RETURNING ${SUMMARY_COLUMNS.split(', ')
        .map((c) => `g.${c}`)
        .join(', ')}, c.prev_owner`,

    /** Many sagas with their records in one round trip (a worker loads what it just claimed). */
    loadMany: `SELECT ${SUMMARY_COLUMNS}, input, meta, deadline_at, key, ended_at, rr.records, rr.record_times
      FROM ${s}.sagas g CROSS JOIN LATERAL (
        SELECT coalesce(json_agg(r.record ORDER BY r.seq), '[]'::json) AS records, coalesce(json_agg(r.at ORDER BY r.seq), '[]'::json) AS record_times
        FROM ${s}.saga_records r WHERE r.saga_id = g.id) rr
      WHERE g.id = ANY($1::text[])`,

    /** A waiter's interest in one saga until $2 ms from now: the trigger notifies only these. */
    registerWait: `INSERT INTO ${s}.saga_waits (saga_id, until_ms) VALUES ($1, ${NOW_MS} + $2::bigint)
      ON CONFLICT (saga_id) DO UPDATE SET until_ms = greatest(${s}.saga_waits.until_ms, excluded.until_ms)`,

    /** Interest that lapsed a minute ago (retention passes clear them). */
    expireWaits: `DELETE FROM ${s}.saga_waits WHERE until_ms < ${NOW_MS} - 60000`,

    claimStuck: `UPDATE ${s}.sagas SET owner = $2, fencing_token = fencing_token + 1,
        lease_expires_at = ${NOW_MS} + $3::bigint, updated_at = ${NOW_MS}
      WHERE id = $1 AND status = 'stuck' AND (lease_expires_at IS NULL OR lease_expires_at <= ${NOW_MS})
      RETURNING ${SUMMARY_COLUMNS}`,

    /** Returns the held ids that are lost: unknown, or held by another token or owner. */
    renew: `WITH h AS (
        SELECT * FROM unnest($1::text[], $2::bigint[]) AS h(id, token)
      ), locked AS (
        SELECT g.id FROM ${s}.sagas g WHERE g.id = ANY($1::text[]) ORDER BY g.id FOR UPDATE
      ), renewed AS (
        UPDATE ${s}.sagas g SET lease_expires_at = ${NOW_MS} + $4::bigint, updated_at = ${NOW_MS}
        FROM h JOIN locked l ON l.id = h.id
        WHERE g.id = h.id AND g.fencing_token = h.token AND g.owner = $3 AND g.status NOT IN ${FINAL}
        RETURNING g.id
      )
      SELECT h.id FROM h LEFT JOIN ${s}.sagas g ON g.id = h.id
      WHERE g.id IS NULL OR g.fencing_token <> h.token OR g.owner IS DISTINCT FROM $3`,

    release: `WITH h AS (
        SELECT * FROM unnest($1::text[], $2::bigint[]) AS h(id, token)
      ), locked AS (
        SELECT g.id FROM ${s}.sagas g WHERE g.id = ANY($1::text[]) ORDER BY g.id FOR UPDATE
      )
      UPDATE ${s}.sagas g SET
        lease_expires_at = CASE WHEN $4::bigint IS NULL THEN 0 ELSE ${NOW_MS} + $4::bigint END,
        owner = CASE WHEN $4::bigint IS NULL THEN g.owner ELSE NULL END,
        updated_at = ${NOW_MS}
      FROM h JOIN locked l ON l.id = h.id
      WHERE g.id = h.id AND g.fencing_token = h.token AND g.owner = $3 AND g.status NOT IN ${FINAL}`,
  };
}

/** A `sagas` row as pg returns it (bigint columns arrive as strings). */
export interface SummaryRow {
  id: string;
  name: string;
  version: number;
  status: SagaStatus;
  owner: string | null;
  fencing_token: string | number;
  lease_expires_at: string | number | null;
  created_at: string | number;
  updated_at: string | number;
  reason: ErrorInfo | null;
}

export function toSummary(row: SummaryRow): SagaSummary {
  return {
    sagaId: row.id,
    name: row.name,
    version: row.version,
    status: row.status,
    owner: row.owner,
    fencingToken: Number(row.fencing_token),
    leaseExpiresAt: row.lease_expires_at === null ? null : Number(row.lease_expires_at),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    reason: row.reason,
  };
}
