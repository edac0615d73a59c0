// Profiles: which store and which saga log each URL selects. Embedded is the default: no server,
// everything under ./.apex/ (PGlite for PostgreSQL, SQLite files for the graph, vector and cache
// stand-ins, a SQLite saga log). Any store given a URL uses its real server; any mix is allowed.
// This file only reads settings; src/wiring.ts opens what they select.
import { resolve } from 'node:path';
import { ConfigError, intFromEnv } from './numeric.js';
import { namespaceFromEnv } from './namespace.js';
import type { IntRange } from '../lib/int-range.js';
import { parseRedisUrl, RedisUrlError } from '../lib/redis-url.js';

export interface ProfileConfig {
  /** APEX_DATA_DIR (default ./.apex), then `<ns>/` under it with a namespace. */
  dataDir: string;
  /** APEX_NAMESPACE (src/config/namespace.ts): unset = the names of every release before it. */
  namespace?: string;
  databaseUrl?: string;
  neo4jUrl?: string;
  neo4jUser?: string;
  neo4jPassword?: string;
  qdrantUrl?: string;
  qdrantApiKey?: string;
  /** QDRANT_SHARDS, QDRANT_REPLICATION_FACTOR, QDRANT_WRITE_CONSISTENCY: the collection's layout at creation (docs/deploy.md). */
  qdrantShards?: number;
  qdrantReplicationFactor?: number;
  qdrantWriteConsistency?: number;
  redisUrl?: string;
  /** A SQLite path or a PostgreSQL URL; default `<dataDir>/saga-log.db`. */
  sagaLogUrl?: string;
  /** `NORMAL` only when named (APEX_SAGA_LOG_SYNC=NORMAL): it is shown in every output. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /** SQLite log commits in a worker thread; default: only beside the PGlite stand-in (see openProfile). */
  sqliteThread?: boolean;
  storeTimeoutMs?: number;
  /** Store group commit (src/stores/coalesce/); default on. APEX_STORE_COALESCE=off turns it off. */
  coalesce?: boolean;
  /** APEX_STORE_COALESCE_IN_FLIGHT: batches in flight per store operation (default 4). */
  coalesceInFlight?: number;
  /** APEX_PG_POOLER=transaction: SAGA_LOG_URL and DATABASE_URL point at PgBouncer in transaction mode. */
  pgPooler?: 'none' | 'transaction';
  /** SAGA_LOG_DIRECT_URL: the server itself, for LISTEN and migrations (behind a pooler). */
  sagaLogDirectUrl?: string;
  /** APEX_SAGA_LOG_CONNECTIONS: the saga log's connection budget per process (default 6). */
  sagaLogConnections?: number;
  /** APEX_SAGA_LOG_TIMEOUT_MS: longest wait for one saga log statement (default 30 s). */
  sagaLogTimeoutMs?: number;
  /** APEX_SAGA_LOG_CONNECT_TIMEOUT_MS: longest wait for a saga log connection (default 5 s). */
  sagaLogConnectTimeoutMs?: number;
  /** APEX_PG_POOL_SIZE: the document store's connections per process (default 10). */
  pgPoolSize?: number;
}

export type Env = Record<string, string | undefined>;

/** APEX_STORE_TIMEOUT_MS: 100 ms catches a value meant in seconds; an hour is past any sane call. */
export const STORE_TIMEOUT_RANGE: IntRange = { min: 100, max: 3_600_000, unit: 'milliseconds' };

/** Qdrant accepts any uint32 >= 1; past these a value is a typo (a cluster of thousands of nodes is not). */
export const QDRANT_SHARDS_RANGE: IntRange = { min: 1, max: 1_024, unit: 'shards' };
export const QDRANT_REPLICAS_RANGE: IntRange = { min: 1, max: 64, unit: 'replicas' };

/** The Qdrant collection layout; a write consistency above the replication factor could never be met. */
function qdrantLayout(env: Env, cfg: ProfileConfig): void {
  const shards = intFromEnv(env, 'QDRANT_SHARDS', QDRANT_SHARDS_RANGE);
  const replicas = intFromEnv(env, 'QDRANT_REPLICATION_FACTOR', QDRANT_REPLICAS_RANGE);
  const consistency = intFromEnv(env, 'QDRANT_WRITE_CONSISTENCY', QDRANT_REPLICAS_RANGE);
  if (consistency !== undefined && consistency > (replicas ?? 1))
    throw new ConfigError(
      'QDRANT_WRITE_CONSISTENCY',
      `QDRANT_WRITE_CONSISTENCY must be at most QDRANT_REPLICATION_FACTOR (${replicas ?? '1, the default'}), got ${consistency}`,
    );
  if (shards !== undefined) cfg.qdrantShards = shards;
  if (replicas !== undefined) cfg.qdrantReplicationFactor = replicas;
  if (consistency !== undefined) cfg.qdrantWriteConsistency = consistency;
}

/** Reads the environment; a malformed setting throws ConfigError (code CONFIG_INVALID) naming it. */
export function configFromEnv(env: Env, dataDir?: string): ProfileConfig {
  const namespace = namespaceFromEnv(env.APEX_NAMESPACE);
  // A namespace's embedded stores and SQLite saga log live in their own directory: the simplest
  // separation, and the directory lock then guards each namespace on its own.
  const base = resolve(dataDir ?? env.APEX_DATA_DIR ?? '.apex');
  const cfg: ProfileConfig = { dataDir: namespace ? resolve(base, namespace) : base };
  if (namespace) cfg.namespace = namespace;
  const set = <K extends keyof ProfileConfig>(k: K, v: ProfileConfig[K] | undefined): void => {
    if (v !== undefined && v !== '') cfg[k] = v;
  };
  set('databaseUrl', env.DATABASE_URL);
  set('neo4jUrl', env.NEO4J_URL);
  set('neo4jUser', env.NEO4J_USER);
  set('neo4jPassword', env.NEO4J_PASSWORD);
  set('qdrantUrl', env.QDRANT_URL);
  set('qdrantApiKey', env.QDRANT_API_KEY);
  qdrantLayout(env, cfg);
  set('redisUrl', env.REDIS_URL);
  if (cfg.redisUrl) checkRedisUrl(cfg.redisUrl);
  set('sagaLogUrl', env.SAGA_LOG_URL);
  const sync = env.APEX_SAGA_LOG_SYNC?.trim().toUpperCase();
  if (sync === 'FULL' || sync === 'NORMAL') cfg.sqliteSynchronous = sync;
  else if (sync)
    throw new ConfigError('APEX_SAGA_LOG_SYNC', `APEX_SAGA_LOG_SYNC must be FULL or NORMAL, got ${JSON.stringify(sync.slice(0, 40))}`);
  const coalesce = env.APEX_STORE_COALESCE?.trim().toLowerCase();
  if (coalesce === 'off' || coalesce === 'on') cfg.coalesce = coalesce === 'on';
  else if (coalesce)
    throw new ConfigError('APEX_STORE_COALESCE', `APEX_STORE_COALESCE must be on or off, got ${JSON.stringify(coalesce.slice(0, 40))}`);
  const inFlight = intFromEnv(env, 'APEX_STORE_COALESCE_IN_FLIGHT', { min: 1, max: 64, unit: 'batches' });
  if (inFlight !== undefined) cfg.coalesceInFlight = inFlight;
  const timeout = intFromEnv(env, 'APEX_STORE_TIMEOUT_MS', STORE_TIMEOUT_RANGE);
  if (timeout !== undefined) cfg.storeTimeoutMs = timeout;
  const pooler = env.APEX_PG_POOLER?.trim().toLowerCase();
  if (pooler === 'transaction' || pooler === 'none') cfg.pgPooler = pooler;
  else if (pooler)
    throw new ConfigError('APEX_PG_POOLER', `APEX_PG_POOLER must be transaction or none, got ${JSON.stringify(pooler.slice(0, 40))}`);
  set('sagaLogDirectUrl', env.SAGA_LOG_DIRECT_URL);
  const conns = intFromEnv(env, 'APEX_SAGA_LOG_CONNECTIONS', { min: 2, max: 1_000, unit: 'connections' });
  if (conns !== undefined) cfg.sagaLogConnections = conns;
  const logTimeout = intFromEnv(env, 'APEX_SAGA_LOG_TIMEOUT_MS', STORE_TIMEOUT_RANGE);
  if (logTimeout !== undefined) cfg.sagaLogTimeoutMs = logTimeout;
  const connectTimeout = intFromEnv(env, 'APEX_SAGA_LOG_CONNECT_TIMEOUT_MS', { min: 100, max: 600_000, unit: 'milliseconds' });
  if (connectTimeout !== undefined) cfg.sagaLogConnectTimeoutMs = connectTimeout;
  const poolSize = intFromEnv(env, 'APEX_PG_POOL_SIZE', { min: 1, max: 1_000, unit: 'connections' });
  if (poolSize !== undefined) cfg.pgPoolSize = poolSize;
  return cfg;
}

/** A cluster URL (redis+cluster://host:port,...) is checked here, at start; a server URL by ioredis. */
function checkRedisUrl(url: string): void {
  try {
    parseRedisUrl(url);
  } catch (err) {
    if (err instanceof RedisUrlError) throw new ConfigError('REDIS_URL', err.message);
    throw err;
  }
}
