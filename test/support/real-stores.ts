// An isolated set of real stores for one test file: a fresh PostgreSQL database, the Neo4j server
// emptied and the Qdrant Edge front emptied (test files run one at a time), its own Redis database
// index. Qdrant is reached through a checking proxy in this process (test/support/qdrant-front.ts):
// contract checks when the OpenAPI document is there, and dropNext/stallNext for fault tests.
// Returns the profile config that points openApp() at them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import neo4j from 'neo4j-driver';
import { Cluster, Redis } from 'ioredis';
import type { ProfileConfig } from '../../src/config/profile.js';
import { startQdrantFront, type QdrantUnderTest } from './qdrant-front.js';
import { requireServiceVar, testPgAdminUrl, testRedisClusterUrl, testServices } from './services.js';
import { parseRedisUrl } from '../../src/lib/redis-url.js';

export interface RealStores {
  config: ProfileConfig;
  databaseUrl: string;
  qdrant: QdrantUnderTest;
  close(): Promise<void>;
}

export async function realStores(
  name: string,
  redisDb: number,
  opts: {
    sagaLogOnPostgres?: boolean;
    /** another front than the services' one */
    qdrantTarget?: string;
    /** The saga log and the document store through PgBouncer in transaction mode (APEX_TEST_PGBOUNCER_URL). */
    viaPgBouncer?: boolean;
    /** Redis is the 6-node cluster (APEX_TEST_REDIS_CLUSTER_URL), emptied on every master; `redisDb` is unused. */
    redisCluster?: boolean;
  } = {},
): Promise<RealStores> {
  const services = testServices();
  const admin = new pg.Client({ connectionString: testPgAdminUrl() });
  await admin.connect();
  const db = `apex_it_${name}_${process.pid}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db} OWNER apex`);
  await admin.end();
  const url = new URL(services.databaseUrl);
  url.pathname = `/${db}`;
  const databaseUrl = url.toString();

  const driver = neo4j.driver(services.neo4jUrl);
  const session = driver.session();
  await session.run('MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
  await session.close();
  await driver.close();

  const redisUrl = opts.redisCluster ? testRedisClusterUrl() : `${services.redisUrl.replace(/\/\d*$/, '')}/${redisDb}`;
  if (opts.redisCluster) await flushCluster(redisUrl);
  else {
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    redis.disconnect();
  }

  const qdrant = await startQdrantFront({ target: opts.qdrantTarget ?? services.qdrantUrl });
  const dataDir = mkdtempSync(join(tmpdir(), `apex-it-${name}-`));
  const config: ProfileConfig = {
    dataDir,
    databaseUrl,
    neo4jUrl: services.neo4jUrl,
    qdrantUrl: qdrant.url,
    redisUrl,
    sagaLogUrl: opts.sagaLogOnPostgres ? databaseUrl : join(dataDir, 'saga-log.db'),
    storeTimeoutMs: 10_000,
  };
  return {
    config: opts.viaPgBouncer ? throughPgBouncer(config, databaseUrl) : config,
    databaseUrl,
    qdrant,
    close: async () => {
      await qdrant.close();
      const a = new pg.Client({ connectionString: testPgAdminUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * The same stores with the document store (and the saga log, when it is on PostgreSQL) reached
 * through PgBouncer in transaction mode (APEX_TEST_PGBOUNCER_URL), LISTEN and the log's migrations
 * on the server itself (SAGA_LOG_DIRECT_URL), as a fleet behind a pooler runs. `databaseUrl` is the
 * direct URL of the test database; tests keep it for the submitter and the checks (not under test).
 */
export function throughPgBouncer(config: ProfileConfig, databaseUrl: string): ProfileConfig {
  const bouncer = new URL(requireServiceVar('APEX_TEST_PGBOUNCER_URL'));
  bouncer.pathname = new URL(databaseUrl).pathname;
  const pooled: ProfileConfig = { ...config, databaseUrl: bouncer.toString(), pgPooler: 'transaction' };
  if (config.sagaLogUrl === databaseUrl) {
    pooled.sagaLogUrl = bouncer.toString();
    pooled.sagaLogDirectUrl = databaseUrl;
  }
  return pooled;
}

/** Empties every master of the test cluster (one database, shared by the test files run one at a time). */
export async function flushCluster(url: string): Promise<void> {
  const target = parseRedisUrl(url);
  if (target.kind !== 'cluster') throw new Error('flushCluster: not a redis+cluster:// URL');
  const cluster = new Cluster(target.seeds);
  try {
    await cluster.ping(); // the node list is known once connected
    await Promise.all(cluster.nodes('master').map((n) => n.flushall()));
  } finally {
    cluster.disconnect();
  }
}
