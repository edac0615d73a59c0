// Fresh real stores for one bench run (the same isolation as test/support/real-stores.ts): a new
// PostgreSQL database, the shared Neo4j emptied, the Qdrant Edge front's collections dropped, a
// Redis database index flushed. Run under `flock /tmp/apex-servers.lock`: Neo4j is shared.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import type { ProfileConfig } from '../src/config/profile.js';

export interface ServiceUrls {
  databaseUrl: string;
  adminUrl: string;
  neo4jUrl: string;
  redisUrl: string;
  qdrantUrl: string;
}

/** From `bash scripts/services.sh env` (exported by the bench runner). */
export function serviceUrls(env: NodeJS.ProcessEnv = process.env): ServiceUrls {
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`${k} is not set: run eval "$(bash scripts/services.sh env)" first`);
    return v;
  };
  return {
    databaseUrl: need('APEX_TEST_DATABASE_URL'),
    adminUrl: need('APEX_TEST_PG_ADMIN_URL'),
    neo4jUrl: need('APEX_TEST_NEO4J_URL'),
    redisUrl: need('APEX_TEST_REDIS_URL'),
    qdrantUrl: need('APEX_TEST_QDRANT_URL'),
  };
}

export interface FreshStores {
  config: ProfileConfig;
  drop(): Promise<void>;
}

/** A new, empty PostgreSQL database owned by the test user; returns its URL and how to drop it. */
export async function freshDatabase(
  urls: Pick<ServiceUrls, 'adminUrl' | 'databaseUrl'>,
  db: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = async (sql: string): Promise<void> => {
    const a = new pg.Client({ connectionString: urls.adminUrl });
    await a.connect();
    try {
      await a.query(sql);
    } finally {
      await a.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${db} OWNER apex`);
  const u = new URL(urls.databaseUrl);
  u.pathname = `/${db}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}

export async function freshStores(urls: ServiceUrls, sagaLog: 'sqlite' | 'postgres'): Promise<FreshStores> {
  const database = await freshDatabase(urls, `apex_bench_${process.pid}`);
  const databaseUrl = database.url;

  const driver = neo4j.driver(urls.neo4jUrl);
  const session = driver.session();
  // In bounded transactions until nothing is left: one statement over everything ran out of heap
  // (1 GB) after the 100,000-document backfill (bench/throughput.sh) left its graph behind.
  for (;;) {
    const r = await session.run('MATCH (n) WITH n LIMIT 5000 DETACH DELETE n RETURN count(*) AS removed');
    if (Number(r.records[0]?.get('removed') ?? 0) === 0) break;
  }
  await session.close();
  await driver.close();

  const redisUrl = `${urls.redisUrl.replace(/\/\d*$/, '')}/14`;
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();

  const res = await fetch(`${urls.qdrantUrl}/collections`);
  const body = (await res.json()) as { result: { collections: Array<{ name: string }> } };
  for (const { name } of body.result.collections)
    await fetch(`${urls.qdrantUrl}/collections/${encodeURIComponent(name)}`, { method: 'DELETE' });

  const dataDir = mkdtempSync(join(tmpdir(), 'apex-bench-servers-'));
  return {
    config: {
      dataDir,
      databaseUrl,
      neo4jUrl: urls.neo4jUrl,
      qdrantUrl: urls.qdrantUrl,
      redisUrl,
      sagaLogUrl: sagaLog === 'postgres' ? databaseUrl : join(dataDir, 'saga-log.db'),
    },
    drop: () => database.drop(),
  };
}
