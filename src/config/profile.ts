// Profiles: which store and which saga log each URL selects. Embedded is the default: no server,
// everything under ./.apex/ (PGlite for PostgreSQL, SQLite files for the graph, vector and cache
// stand-ins, a SQLite saga log). Any store given a URL uses its real server; any mix is allowed.
// Adapters load lazily, so an embedded run never loads a server driver.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openSagaLog, type OpenedSagaLog } from '../log/open.js';
import { lockDataDir } from './data-dir-lock.js';
import type { Embedder } from '../ingest/embedder.js';
import type { StoreName, StoreSet } from '../stores/types.js';
import { ConfigError, intFromEnv, type IntRange } from './numeric.js';
import { redactUrl } from './redact.js';

export interface ProfileConfig {
  dataDir: string;
  databaseUrl?: string;
  neo4jUrl?: string;
  neo4jUser?: string;
  neo4jPassword?: string;
  qdrantUrl?: string;
  qdrantApiKey?: string;
  redisUrl?: string;
  /** A SQLite path or a PostgreSQL URL; default `<dataDir>/saga-log.db`. */
  sagaLogUrl?: string;
  /** `NORMAL` only when named (APEX_SAGA_LOG_SYNC=NORMAL): it is shown in every output. */
  sqliteSynchronous?: 'FULL' | 'NORMAL';
  /** SQLite log commits in a worker thread; default: only beside the PGlite stand-in (see openProfile). */
  sqliteThread?: boolean;
  storeTimeoutMs?: number;
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

/** Reads the environment; a malformed setting throws ConfigError (code CONFIG_INVALID) naming it. */
export function configFromEnv(env: Env, dataDir?: string): ProfileConfig {
  const cfg: ProfileConfig = { dataDir: resolve(dataDir ?? env.APEX_DATA_DIR ?? '.apex') };
  const set = <K extends keyof ProfileConfig>(k: K, v: ProfileConfig[K] | undefined): void => {
    if (v !== undefined && v !== '') cfg[k] = v;
  };
  set('databaseUrl', env.DATABASE_URL);
  set('neo4jUrl', env.NEO4J_URL);
  set('neo4jUser', env.NEO4J_USER);
  set('neo4jPassword', env.NEO4J_PASSWORD);
  set('qdrantUrl', env.QDRANT_URL);
  set('qdrantApiKey', env.QDRANT_API_KEY);
  set('redisUrl', env.REDIS_URL);
  set('sagaLogUrl', env.SAGA_LOG_URL);
  const sync = env.APEX_SAGA_LOG_SYNC?.trim().toUpperCase();
  if (sync === 'FULL' || sync === 'NORMAL') cfg.sqliteSynchronous = sync;
  else if (sync) throw new ConfigError('APEX_SAGA_LOG_SYNC', `APEX_SAGA_LOG_SYNC must be FULL or NORMAL, got ${JSON.stringify(sync.slice(0, 40))}`);
  const timeout = intFromEnv(env, 'APEX_STORE_TIMEOUT_MS', STORE_TIMEOUT_RANGE);
  if (timeout !== undefined) cfg.storeTimeoutMs = timeout;
  const pooler = env.APEX_PG_POOLER?.trim().toLowerCase();
  if (pooler === 'transaction' || pooler === 'none') cfg.pgPooler = pooler;
  else if (pooler) throw new ConfigError('APEX_PG_POOLER', `APEX_PG_POOLER must be transaction or none, got ${JSON.stringify(pooler.slice(0, 40))}`);
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

export interface ProfileDescription {
  profile: 'embedded' | 'servers' | 'mixed';
  stores: Record<StoreName, string>;
  sagaLog: string;
  durability: string;
  embedder: string;
}

export interface OpenedProfile {
  stores: StoreSet;
  log: OpenedSagaLog;
  describe(): ProfileDescription;
  close(): Promise<void>;
}

/** Connection text without user or password (kept exported here for existing callers). */
export { redactUrl };

/**
 * Opens the stores and the saga log. With `lenient`, a store that cannot connect is kept anyway
 * (its health() says what is wrong): `status` must report a down store, not fail to start.
 */
export async function openProfile(cfg: ProfileConfig, embedder: Embedder, opts: { lenient?: boolean } = {}): Promise<OpenedProfile> {
  const embedded = (name: string): string => join(cfg.dataDir, name);
  const needsDir = !cfg.databaseUrl || !cfg.neo4jUrl || !cfg.qdrantUrl || !cfg.redisUrl || !cfg.sagaLogUrl;
  if (needsDir) mkdirSync(cfg.dataDir, { recursive: true });
  // Embedded stores belong to one process at a time (a SQLite saga log alone is multi-process safe).
  const embeddedStores = !cfg.databaseUrl || !cfg.neo4jUrl || !cfg.qdrantUrl || !cfg.redisUrl;
  const dirLock = embeddedStores ? lockDataDir(cfg.dataDir) : undefined;
  const timeoutMs = cfg.storeTimeoutMs;
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const postgres = cfg.databaseUrl
      ? (await import('../stores/postgres/relational-store.js')).createPostgresStore({
          url: cfg.databaseUrl,
          timeoutMs,
          ...(cfg.pgPoolSize !== undefined ? { poolSize: cfg.pgPoolSize } : {}),
          ...(cfg.pgPooler ? { pooler: cfg.pgPooler } : {}),
        })
      : await (await import('../stores/pglite/relational-store.js')).openPgliteRelational({ dir: embedded('postgres'), timeoutMs });
    opened.push(postgres);
    const neo4j = cfg.neo4jUrl
      ? (await import('../stores/neo4j/graph-store.js')).createNeo4jStore({ url: cfg.neo4jUrl, user: cfg.neo4jUser, password: cfg.neo4jPassword, timeoutMs })
      : await (await import('../stores/sqlite/graph-store.js')).openSqliteGraph(embedded('graph.db'));
    opened.push(neo4j);
    const qdrant = cfg.qdrantUrl
      ? (await import('../stores/qdrant/vector-store.js')).createQdrantStore({ url: cfg.qdrantUrl, apiKey: cfg.qdrantApiKey, dimension: embedder.dimension, timeoutMs })
      : await (await import('../stores/sqlite/vector-store.js')).openSqliteVector(embedded('vectors.db'), embedder.dimension);
    opened.push(qdrant);
    const redis = cfg.redisUrl
      ? (await import('../stores/redis/cache-store.js')).createRedisStore({ url: cfg.redisUrl, timeoutMs })
      : await (await import('../stores/sqlite/cache-store.js')).openSqliteCache(embedded('cache.db'));
    opened.push(redis);
    const stores: StoreSet = { postgres, neo4j, qdrant, redis };
    for (const s of Object.values(stores)) {
      try {
        await s.connect();
      } catch (err) {
        if (!opts.lenient) throw err;
      }
    }
    const logTarget = cfg.sagaLogUrl ?? embedded('saga-log.db');
    // With the PGlite stand-in the main thread is busy running PostgreSQL in WebAssembly: a SQLite
    // log then commits (and fsyncs) in a worker thread, beside it instead of blocking it (the
    // embedded first run ingests ~30% faster; docs/performance.md). Same durability either way.
    const sqlite = { ...(cfg.sqliteSynchronous ? { synchronous: cfg.sqliteSynchronous } : {}), thread: cfg.sqliteThread ?? !cfg.databaseUrl };
    const postgresLog = {
      ...(cfg.sagaLogConnections !== undefined ? { poolSize: cfg.sagaLogConnections } : {}),
      connection: {
        ...(cfg.pgPooler ? { pooler: cfg.pgPooler } : {}),
        ...(cfg.sagaLogDirectUrl ? { directConnectionString: cfg.sagaLogDirectUrl } : {}),
        ...(cfg.sagaLogTimeoutMs !== undefined ? { queryTimeoutMs: cfg.sagaLogTimeoutMs } : {}),
        ...(cfg.sagaLogConnectTimeoutMs !== undefined ? { connectTimeoutMs: cfg.sagaLogConnectTimeoutMs } : {}),
      },
    };
    const log = await openSagaLog(logTarget, { sqlite, postgres: postgresLog });
    const servers = [cfg.databaseUrl, cfg.neo4jUrl, cfg.qdrantUrl, cfg.redisUrl].filter(Boolean).length;
    const describe = (): ProfileDescription => ({
      profile: servers === 0 && !cfg.sagaLogUrl ? 'embedded' : servers === 4 && cfg.sagaLogUrl ? 'servers' : 'mixed',
      stores: {
        postgres: cfg.databaseUrl ? `postgres ${redactUrl(cfg.databaseUrl)}` : `pglite ${embedded('postgres')}`,
        neo4j: cfg.neo4jUrl ? `neo4j ${redactUrl(cfg.neo4jUrl)}` : `sqlite-graph ${embedded('graph.db')}`,
        qdrant: cfg.qdrantUrl ? `qdrant ${redactUrl(cfg.qdrantUrl)}` : `sqlite-vector ${embedded('vectors.db')}`,
        redis: cfg.redisUrl ? `redis ${redactUrl(cfg.redisUrl)}` : `sqlite-cache ${embedded('cache.db')}`,
      },
      sagaLog: `${log.kind} ${cfg.sagaLogUrl && /^postgres/i.test(cfg.sagaLogUrl) ? redactUrl(cfg.sagaLogUrl) : logTarget}`,
      durability: log.durability,
      embedder: `${embedder.name} (dimension ${embedder.dimension})`,
    });
    return {
      stores,
      log,
      describe,
      close: async () => {
        await log.close();
        await Promise.allSettled(opened.map((s) => s.close()));
        dirLock?.release();
      },
    };
  } catch (err) {
    await Promise.allSettled(opened.map((s) => s.close()));
    dirLock?.release();
    throw err;
  }
}
