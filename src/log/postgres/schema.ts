// The PostgreSQL saga log's schema and its migrations. Migrations run in one transaction under a
// transaction advisory lock so that workers starting together never race on DDL (and so that they
// work behind PgBouncer in transaction mode); each is applied once and recorded.
import type pg from 'pg';
import { SagaError } from '../../saga/index.js';
import { withConnection } from './connection.js';

/** Epoch milliseconds on the DATABASE's clock: fleet machines' clocks differ, the server's is one. */
export const NOW_MS = '(floor(extract(epoch from now()) * 1000))::bigint';

export function quoteSchema(schema: string): string {
  // Identifiers cannot be bound as parameters; accept only plain names so quoting is trivially safe.
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new SagaError('LOG_FAILURE', `invalid saga log schema name ${JSON.stringify(schema)}: use [a-z_][a-z0-9_]*`);
  }
  return `"${schema}"`;
}

/** Ordered; index + 1 is the version recorded in schema_migrations. Append only, never edit. */
function migrations(s: string): string[] {
  return [
    `CREATE TABLE ${s}.sagas (
       id text COLLATE "C" PRIMARY KEY,
       name text NOT NULL,
       version integer NOT NULL,
       status text NOT NULL,
       input json NOT NULL,
       owner text,
       fencing_token bigint NOT NULL,
       lease_expires_at bigint,
       created_at bigint NOT NULL,
       updated_at bigint NOT NULL,
       reason json,
       next_seq integer NOT NULL DEFAULT 0
     );
     CREATE INDEX sagas_status_created ON ${s}.sagas (status, created_at, id);
     CREATE TABLE ${s}.saga_records (
       saga_id text COLLATE "C" NOT NULL,
       seq integer NOT NULL,
       type text NOT NULL,
       record json NOT NULL,
       PRIMARY KEY (saga_id, seq)
     );`,
    // Every append updates its saga row (next_seq, lease): free space on the page lets PostgreSQL
    // do that as a HOT update, without new index entries.
    `ALTER TABLE ${s}.sagas SET (fillfactor = 70);`,
    // Engine semantics (issue 9): caller meta (trace context) and a deadline stored with the saga;
    // a notification when a saga's status changes or its lease is released, so waiters need not poll.
    `ALTER TABLE ${s}.sagas ADD COLUMN meta json, ADD COLUMN deadline_at bigint;
     CREATE FUNCTION ${s}.notify_saga_change() RETURNS trigger LANGUAGE plpgsql AS $f$
       BEGIN PERFORM pg_notify(${changeChannelLiteral(s)}, NEW.id); RETURN NULL; END $f$;
     CREATE TRIGGER saga_change AFTER UPDATE ON ${s}.sagas FOR EACH ROW
       WHEN (OLD.status IS DISTINCT FROM NEW.status
             OR (NEW.lease_expires_at IS DISTINCT FROM OLD.lease_expires_at AND (NEW.lease_expires_at = 0 OR NEW.owner IS NULL)))
       EXECUTE FUNCTION ${s}.notify_saga_change();`,
    // Fleet at scale (issue 19), one self-contained step:
    // - claims that cost the same with 1,000 or 1,000,000 pending: the queue of pending sagas in
    //   creation order, and the running/compensating sagas by lease expiry (a NULL lease counts as
    //   expired), each a partial index that a claim walks from its head (no Sort over the queue);
    // - retention walks ended sagas by last update;
    // - notifications only for sagas someone waits on: a waiter registers interest in saga_waits
    //   (UNLOGGED: no WAL, so registering does not wait for a flush; lost on a crash, like the
    //   waiters' own connections) and the trigger notifies only those. A committing transaction
    //   that notified holds a server-wide lock until its WAL flush, so notifying every status
    //   change put all the fleet's commits in one line.
    `CREATE INDEX sagas_pending_queue ON ${s}.sagas (created_at, id) WHERE status = 'pending';
     CREATE INDEX sagas_lease_due ON ${s}.sagas ((coalesce(lease_expires_at, 0)), created_at, id)
       WHERE status IN ('running', 'compensating');
     CREATE INDEX sagas_ended_updated ON ${s}.sagas (updated_at) WHERE status IN ('completed', 'compensated');
     CREATE UNLOGGED TABLE ${s}.saga_waits (saga_id text COLLATE "C" PRIMARY KEY, until_ms bigint NOT NULL);
     CREATE OR REPLACE FUNCTION ${s}.notify_saga_change() RETURNS trigger LANGUAGE plpgsql AS $f$
       BEGIN
         IF EXISTS (SELECT 1 FROM ${s}.saga_waits w WHERE w.saga_id = NEW.id AND w.until_ms > ${NOW_MS}) THEN
           PERFORM pg_notify(${changeChannelLiteral(s)}, NEW.id);
         END IF;
         RETURN NULL;
       END $f$;`,
    operatorQueries(s),
    // Migration 4's retention index keys on updated_at, which every append and lease renewal
    // changes: no such update could be HOT (each wrote a new entry in every index of the table,
    // and WAL for it). Migration 5's sagas_ended (ended_at, id) serves prune since; nothing reads this one.
    `DROP INDEX IF EXISTS ${s}.sagas_ended_updated;`,
  ];
}

/**
 * Operators' queries (issues 19 and 21): the time of every record, the saga's subject (`key`) and
 * end time, and the indexes the filters and keyset pages read (docs/saga-log.md). No index covers
 * a column the append or lease statements change (next_seq, lease_expires_at, updated_at, owner),
 * so those updates stay HOT; `reason` and `ended_at` change only with the status, which is
 * indexed already. Old records keep a null time; old ended sagas get ended_at = updated_at.
 */
function operatorQueries(s: string): string {
  return `ALTER TABLE ${s}.saga_records ADD COLUMN at bigint;
     ALTER TABLE ${s}.saga_records ALTER COLUMN at SET DEFAULT ${NOW_MS};
     ALTER TABLE ${s}.sagas ADD COLUMN key text COLLATE "C", ADD COLUMN ended_at bigint;
     UPDATE ${s}.sagas SET ended_at = updated_at WHERE status IN ('completed', 'compensated');
     CREATE FUNCTION ${s}.stamp_saga_end() RETURNS trigger LANGUAGE plpgsql AS $f$
       BEGIN NEW.ended_at := ${NOW_MS}; RETURN NEW; END $f$;
     CREATE TRIGGER saga_end BEFORE UPDATE ON ${s}.sagas FOR EACH ROW
       WHEN (NEW.status IN ('completed', 'compensated') AND OLD.status IS DISTINCT FROM NEW.status)
       EXECUTE FUNCTION ${s}.stamp_saga_end();
     CREATE INDEX sagas_created ON ${s}.sagas (created_at, id);
     CREATE INDEX sagas_key ON ${s}.sagas (key, created_at, id) WHERE key IS NOT NULL;
     CREATE INDEX sagas_reason_code ON ${s}.sagas ((reason->>'code'), created_at, id) WHERE reason IS NOT NULL;
     CREATE INDEX sagas_ended ON ${s}.sagas (ended_at, id) WHERE ended_at IS NOT NULL;
     CREATE INDEX saga_records_failed ON ${s}.saga_records ((record->>'step'), saga_id)
       WHERE type IN ('step_failed', 'compensation_failed');`;
}

/** The LISTEN/NOTIFY channel of a schema's saga changes (the schema name is validated). */
export function changeChannel(quotedSchema: string): string {
  return `${quotedSchema.replace(/"/g, '')}_saga_change`;
}

function changeChannelLiteral(quotedSchema: string): string {
  return `'${changeChannel(quotedSchema)}'`;
}

/**
 * Applies the missing migrations in ONE transaction under pg_advisory_xact_lock, so that workers
 * starting together never race on DDL. A transaction-level lock (not a session lock) works behind
 * PgBouncer in transaction mode, where a session lock would stay on a server connection that other
 * clients then use; it is released by COMMIT or ROLLBACK, even when this process dies.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<void> {
  const s = quoteSchema(schema);
  await withConnection(pool, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`apex-saga-log:${schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      const done = await client.query<{ version: number }>(`SELECT version FROM ${s}.schema_migrations`);
      const applied = new Set(done.rows.map((r) => r.version));
      const all = migrations(s);
      for (let i = 0; i < all.length; i++) {
        if (applied.has(i + 1)) continue;
        await client.query(all[i] as string);
        await client.query(`INSERT INTO ${s}.schema_migrations (version) VALUES ($1)`, [i + 1]);
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  });
}
