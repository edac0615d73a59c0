// PostgreSQL adapter (pg Pool): the system of record. All SQL lives in postgres/sql-store.ts and is
// shared with the PGlite stand-in; this file only supplies a pooled executor and its time limits.
import pg from 'pg';
import { SqlRelationalStore } from './sql-store.js';
import type { SqlDatabase, SqlExecutor } from './sql-store.js';
import { DEFAULT_TIMEOUT_MS } from '../timeout.js';
import { hostSelection } from '../../lib/pg-select-client.js';
import { READ_ONLY_SQLSTATE } from '../../lib/pg-hosts.js';
import { errorCode } from '../../lib/errors.js';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/db (the password never leaves this module); several hosts
   * `host1:5432,host2:5433` select the first read-write one (src/lib/pg-hosts.ts). */
  url: string;
  /** Per-call limit, enforced server-side (statement_timeout) and client-side. Default 10 s. */
  timeoutMs?: number;
  poolSize?: number;
  /** Shown in pg_stat_activity; lets tests find this adapter's backends. */
  applicationName?: string;
  /**
   * 'transaction': DATABASE_URL is PgBouncer in transaction mode, which refuses statement_timeout
   * as a startup parameter; transactions then set it with SET LOCAL, single statements rely on the
   * client-side timeout (and a role default: ALTER ROLE ... SET statement_timeout, docs/fleet.md).
   */
  pooler?: 'none' | 'transaction';
  /**
   * The schema of this deployment's tables (APEX_NAMESPACE: `apex_<ns>`; a plain identifier, checked
   * by the caller and again here). Unset: the connection's search_path, as before namespaces.
   * Direct connections get it as the startup search_path; behind a transaction pooler, which refuses
   * startup options and mixes sessions, every transaction sets it with SET LOCAL and a single
   * statement runs in a transaction of its own (two more round trips each: docs/deploy.md).
   */
  schema?: string;
}

const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** host:port/db of a connection URL, without user or password (every host of a multi-host URL). */
export function describePostgresUrl(url: string): string {
  const multi = /^postgres(?:ql)?:\/\/(?:[^@/?#]*@)?([^/?#]*,[^/?#]*)(\/[^?#]*)?/i.exec(url);
  if (multi) return `${multi[1] ?? ''}${multi[2] ?? ''}`;
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'an unparsable DATABASE_URL';
  }
}

/** Longest wait for a ROLLBACK before the connection is considered unusable. */
const ROLLBACK_WAIT_MS = 2_000;

/**
 * Rolls back after a failed transaction. When the connection is gone or stalled (the ROLLBACK
 * fails or does not answer), returns an error so the client is destroyed rather than pooled:
 * closing it makes the server roll the transaction back by itself.
 */
async function rollbackOrBreak(client: pg.PoolClient): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.query('ROLLBACK'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`ROLLBACK did not answer within ${ROLLBACK_WAIT_MS} ms`)), ROLLBACK_WAIT_MS);
      }),
    ]);
    return undefined;
  } catch (rollbackErr) {
    return rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function poolDatabase(pool: pg.Pool, localTimeoutMs?: number, localSchema?: string): SqlDatabase {
  const executorOf = (client: pg.Pool | pg.PoolClient): SqlExecutor => ({
    async query<R extends object>(sql: string, params?: unknown[]): Promise<R[]> {
      const res = await client.query<R>(sql, params);
      return res.rows;
    },
  });
  const db: SqlDatabase = {
    ...executorOf(pool),
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      let broken: Error | undefined;
      // A checked-out client whose socket dies emits 'error' besides rejecting the query; without
      // a listener that event would crash the process.
      const onSocketError = (err: Error): void => {
        broken = err;
      };
      client.on('error', onSocketError);
      try {
        await client.query('BEGIN');
        if (localTimeoutMs !== undefined) await client.query(`SET LOCAL statement_timeout = ${Math.round(localTimeoutMs)}`);
        // Validated identifier (SCHEMA_NAME): safe to inline; SET takes no parameters.
        if (localSchema !== undefined) await client.query(`SET LOCAL search_path TO ${localSchema}`);
        const result = await fn(executorOf(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // A read-only answer (25006): this connection reaches a standby; never pool it again.
        if (errorCode(err) === READ_ONLY_SQLSTATE) broken = err instanceof Error ? err : new Error(String(err));
        broken ??= await rollbackOrBreak(client);
        throw err;
      } finally {
        client.off('error', onSocketError);
        client.release(broken);
      }
    },
  };
  // Behind a transaction pooler a statement outside a transaction could reach a server session
  // with any search_path: with a schema, each one runs in its own transaction that sets it.
  // VACUUM cannot run in a transaction: it names its tables schema-qualified (staged-inputs.ts).
  if (localSchema !== undefined) {
    const direct = db.query.bind(db);
    db.query = <R extends object>(sql: string, params?: unknown[]): Promise<R[]> =>
      /^VACUUM\b/.test(sql) ? direct<R>(sql, params) : db.transaction((tx) => tx.query<R>(sql, params));
  }
  return db;
}

export function createPostgresStore(options: PostgresStoreOptions): SqlRelationalStore {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const pooled = options.pooler === 'transaction';
  const schema = options.schema;
  if (schema !== undefined && !SCHEMA_NAME.test(schema))
    throw new Error(`schema must match ${SCHEMA_NAME.source}, got ${JSON.stringify(schema)}`);
  const pool = new pg.Pool({
    ...hostSelection(pg.Client, options.url, { setting: 'DATABASE_URL', connectTimeoutMs: Math.min(timeoutMs, 5_000) }),
    max: options.poolSize ?? 10,
    ...(pooled ? {} : { statement_timeout: timeoutMs }),
    ...(schema !== undefined && !pooled ? { options: `-c search_path=${schema}` } : {}),
    query_timeout: timeoutMs + 1_000,
    connectionTimeoutMillis: Math.min(timeoutMs, 5_000),
    application_name: options.applicationName ?? 'apex-memory',
  });
  // Without a listener an idle client's socket error (server restart) would crash the process;
  // the next query on a fresh client reports the outage as a transient error instead.
  pool.on('error', () => undefined);
  return new SqlRelationalStore({
    backend: 'postgres',
    db: poolDatabase(pool, pooled ? timeoutMs : undefined, pooled ? schema : undefined),
    ...(schema !== undefined ? { schema } : {}),
    timeoutMs: timeoutMs + 2_000,
    describe: () => describePostgresUrl(options.url) + (schema !== undefined ? ` schema ${schema}` : ''),
    shutdown: () => pool.end(),
  });
}
