// The PostgreSQL saga log's connections: how many, how long to wait, and what a pooler allows.
//
// Budget: a log uses at most `connections` pooled connections (default 8: half for group commits,
// up to 2 x maxInFlightBatches, the rest for claims, loads, lease renewals and waits), plus one
// dedicated LISTEN connection, opened on the first wait. With the document store's pool
// (APEX_PG_POOL_SIZE, default 10) a worker holds at most 19 server connections (docs/fleet.md).
// Why not fewer for claims: lease renewals queue behind claims and loads on those connections; with
// one (an earlier split) a loaded fleet test lost leases and crawled.
//
// Timeouts: every pool has a connect timeout and a client-side query timeout. Without them a
// server that accepts connections and never answers (a hung host, a half-open network path) hung
// every command: now the call fails with LOG_FAILURE naming the timeout.
//
// Poolers: behind PgBouncer in transaction mode (pooler 'transaction') a session spans nothing but
// one transaction, so: no named prepared statements, no per-connection SET, no session advisory
// lock (migrations take pg_advisory_xact_lock inside their one transaction), and LISTEN goes to
// `directConnectionString` (SAGA_LOG_DIRECT_URL), which also runs the migrations when given.
import pg from 'pg';
import { hostSelection } from '../../lib/pg-select-client.js';

export type PoolerMode = 'none' | 'transaction';

export interface LogConnectionSettings {
  /** Total pooled connections of this log (default 8). */
  connections: number;
  /** Longest wait for a connection (TCP + startup + authentication), default 5 s. */
  connectTimeoutMs: number;
  /** Longest wait for any one statement's answer, client-side, default 30 s. */
  queryTimeoutMs: number;
  /** Longest wait for the migrations (index builds on a large log take a while), default 10 min. */
  migrationTimeoutMs: number;
  pooler: PoolerMode;
  /** A direct server URL for LISTEN and migrations (needed for notifications behind a pooler). */
  directConnectionString?: string;
}

export const DEFAULT_LOG_CONNECTIONS = 8;

export function logConnectionSettings(o: Partial<LogConnectionSettings>): LogConnectionSettings {
  return {
    connections: Math.max(2, o.connections ?? DEFAULT_LOG_CONNECTIONS),
    connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
    queryTimeoutMs: o.queryTimeoutMs ?? 30_000,
    migrationTimeoutMs: o.migrationTimeoutMs ?? 600_000,
    pooler: o.pooler ?? 'none',
    ...(o.directConnectionString ? { directConnectionString: o.directConnectionString } : {}),
  };
}

/** Group-commit connections and claim/query connections out of one budget. */
export function splitBudget(s: LogConnectionSettings, maxInFlight: number): { main: number; batch: number } {
  const batch = Math.max(1, Math.min(2 * maxInFlight, Math.floor(s.connections / 2)));
  return { main: Math.max(1, s.connections - batch), batch };
}

export function poolConfig(
  connectionString: string,
  max: number,
  applicationName: string,
  s: LogConnectionSettings,
  queryTimeoutMs = s.queryTimeoutMs,
): pg.PoolConfig {
  return {
    // Several hosts (host1,host2, target_session_attrs): the first read-write one (src/lib/pg-hosts.ts).
    ...hostSelection(pg.Client, connectionString, { setting: 'SAGA_LOG_URL', connectTimeoutMs: s.connectTimeoutMs }),
    max,
    application_name: applicationName,
    connectionTimeoutMillis: s.connectTimeoutMs,
    query_timeout: queryTimeoutMs,
    // Idle connections go back to the server (or the pooler) after 30 s.
    idleTimeoutMillis: 30_000,
  };
}
