// Wiring: opens the stores and the saga log a profile (src/config/profile.ts) selects. It sits beside
// app.ts, above config, stores and log, so that config only reads settings and imports no adapter.
// Adapters load lazily, so an embedded run never loads a server driver.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openSagaLog, type OpenedSagaLog } from './log/open.js';
import { lockDataDir } from './config/data-dir-lock.js';
import type { ProfileConfig } from './config/profile.js';
import type { Embedder } from './ingest/embedder.js';
import type { RelationalStore, StoreName, StoreSet } from './stores/types.js';
import { redactUrl } from './lib/redact.js';
import { BatchStats, coalesceStores } from './stores/coalesce/stores.js';
import { DEFAULT_VECTOR_COLLECTION } from './ingest/reindex/control.js';
import { namespaceCollection, namespaceSchema } from './config/namespace.js';

export interface ProfileDescription {
  profile: 'embedded' | 'servers' | 'mixed';
  stores: Record<StoreName, string>;
  sagaLog: string;
  durability: string;
  embedder: string;
  /** APEX_NAMESPACE, or null without one (docs/deploy.md "Namespaces"). */
  namespace: string | null;
}

export interface OpenedProfile {
  stores: StoreSet;
  /** Coalesced batch sizes per store operation (empty when coalescing is off). */
  batchStats: BatchStats;
  log: OpenedSagaLog;
  describe(): ProfileDescription;
  close(): Promise<void>;
}

/**
 * Opens the stores and the saga log. With `lenient`, a store that cannot connect is kept anyway
 * (its health() says what is wrong): `status` must report a down store, not fail to start.
 */
export interface OpenProfileOptions {
  lenient?: boolean;
  /**
   * Names the vector collection this process serves (the active index record, docs/reindex.md),
   * read from PostgreSQL before the vector store opens. Absent: the adapter's default collection.
   */
  vectorCollection?: (postgres: RelationalStore) => Promise<string | undefined>;
}

export async function openProfile(cfg: ProfileConfig, embedder: Embedder, opts: OpenProfileOptions = {}): Promise<OpenedProfile> {
  const embedded = (name: string): string => join(cfg.dataDir, name);
  const needsDir = !cfg.databaseUrl || !cfg.neo4jUrl || !cfg.qdrantUrl || !cfg.redisUrl || !cfg.sagaLogUrl;
  if (needsDir) mkdirSync(cfg.dataDir, { recursive: true });
  // Embedded stores belong to one process at a time (a SQLite saga log alone is multi-process safe).
  const embeddedStores = !cfg.databaseUrl || !cfg.neo4jUrl || !cfg.qdrantUrl || !cfg.redisUrl;
  const dirLock = embeddedStores ? lockDataDir(cfg.dataDir) : undefined;
  const timeoutMs = cfg.storeTimeoutMs;
  // APEX_NAMESPACE: each server store's own names (src/config/namespace.ts); the embedded ones
  // are already apart, in the namespace's data directory (cfg.dataDir).
  const ns = cfg.namespace;
  const schema = ns !== undefined ? namespaceSchema(ns) : undefined;
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const postgres = cfg.databaseUrl
      ? (await import('./stores/postgres/relational-store.js')).createPostgresStore({
          url: cfg.databaseUrl,
          timeoutMs,
          ...(cfg.pgPoolSize !== undefined ? { poolSize: cfg.pgPoolSize } : {}),
          ...(cfg.pgPooler ? { pooler: cfg.pgPooler } : {}),
          ...(schema !== undefined ? { schema } : {}),
        })
      : await (await import('./stores/pglite/relational-store.js')).openPgliteRelational({ dir: embedded('postgres'), timeoutMs });
    opened.push(postgres);
    let collection: string | undefined;
    let postgresConnected = false;
    if (opts.vectorCollection) {
      try {
        await postgres.connect();
        postgresConnected = true;
        collection = await opts.vectorCollection(postgres);
      } catch (err) {
        if (!opts.lenient) throw err; // `status` reports the store (or the record) instead
      }
    }
    const neo4j = cfg.neo4jUrl
      ? (await import('./stores/neo4j/graph-store.js')).createNeo4jStore({
          url: cfg.neo4jUrl,
          user: cfg.neo4jUser,
          password: cfg.neo4jPassword,
          timeoutMs,
          ...(ns !== undefined ? { namespace: ns } : {}),
        })
      : await (await import('./stores/sqlite/graph-store.js')).openSqliteGraph(embedded('graph.db'));
    opened.push(neo4j);
    const qdrant = cfg.qdrantUrl
      ? (await import('./stores/qdrant/vector-store.js')).createQdrantStore({
          url: cfg.qdrantUrl,
          apiKey: cfg.qdrantApiKey,
          dimension: embedder.dimension,
          // The active index record's collection (docs/reindex.md), else the namespace's base one.
          ...(collection !== undefined ? { collection } : ns !== undefined ? { collection: namespaceCollection(ns) } : {}),
          ...(cfg.qdrantShards !== undefined ? { shards: cfg.qdrantShards } : {}),
          ...(cfg.qdrantReplicationFactor !== undefined ? { replicationFactor: cfg.qdrantReplicationFactor } : {}),
          ...(cfg.qdrantWriteConsistency !== undefined ? { writeConsistency: cfg.qdrantWriteConsistency } : {}),
          timeoutMs,
        })
      : await (await import('./stores/sqlite/vector-store.js')).openSqliteVector(embedded('vectors.db'), embedder.dimension);
    opened.push(qdrant);
    // The embedded stand-in's default collection is the base one; another active collection (after
    // a reindex switch) is bound on the same file. Qdrant gets it as an option above.
    const vectors =
      !cfg.qdrantUrl && collection !== undefined && collection !== DEFAULT_VECTOR_COLLECTION
        ? qdrant.withCollection(collection, embedder.dimension)
        : qdrant;
    const redis = cfg.redisUrl
      ? (await import('./stores/redis/cache-store.js')).createRedisStore({
          url: cfg.redisUrl,
          timeoutMs,
          ...(ns !== undefined ? { namespace: ns } : {}),
        })
      : await (await import('./stores/sqlite/cache-store.js')).openSqliteCache(embedded('cache.db'));
    opened.push(redis);
    const raw: StoreSet = { postgres, neo4j, qdrant: vectors, redis };
    for (const s of Object.values(raw)) {
      if (s === postgres && postgresConnected) continue;
      try {
        await s.connect();
      } catch (err) {
        if (!opts.lenient) throw err;
      }
    }
    // The store group commit sits directly on the adapters, under the fault and metrics wrappers
    // that callers add (docs/stores.md "Store group commit"). PGlite runs each call as one
    // synchronous WebAssembly run on this thread: a batch of many documents blocks the event loop
    // (and the lease heartbeats) for all of them at once, which lost leases at start-up under load
    // (e2e same-document-embedded, 1.5 s leases). Its calls stay one by one; the SQLite stand-ins
    // coalesce.
    const batchStats = new BatchStats();
    const skip: StoreName[] = cfg.databaseUrl ? [] : ['postgres'];
    const stores =
      cfg.coalesce === false
        ? raw
        : coalesceStores(raw, { skip, ...(cfg.coalesceInFlight ? { maxInFlight: cfg.coalesceInFlight } : {}) }, batchStats);
    const logTarget = cfg.sagaLogUrl ?? embedded('saga-log.db');
    // With the PGlite stand-in the main thread is busy running PostgreSQL in WebAssembly: a SQLite
    // log then commits (and fsyncs) in a worker thread, beside it instead of blocking it (the
    // embedded first run ingests ~30% faster; docs/performance.md). Same durability either way.
    const sqlite = {
      ...(cfg.sqliteSynchronous ? { synchronous: cfg.sqliteSynchronous } : {}),
      thread: cfg.sqliteThread ?? !cfg.databaseUrl,
    };
    const postgresLog = {
      // A namespace's saga log sits in its schema beside its documents (the log's names are
      // schema-qualified, so this holds behind a transaction pooler too); else apex_saga.
      ...(schema !== undefined ? { schema } : {}),
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
      namespace: ns ?? null,
    });
    return {
      stores,
      batchStats,
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
