// Raw scans of every live row of the servers' stores, as text, for the erasure tests
// (test/integration/erasure-servers.test.ts, test/crash/erasure-crash.test.ts): what an auditor
// would dump, read with the drivers directly rather than through the stores under test.
import assert from 'node:assert/strict';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import type { ProfileConfig } from '../../src/config/profile.js';

/** Every live row of every table (documents' and the saga log's schemas), as text. */
export async function postgresText(databaseUrl: string): Promise<string> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const tables = await c.query<{ s: string; t: string }>(
      "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    );
    const parts: string[] = [];
    for (const { s, t } of tables.rows) {
      const rows = await c.query<{ r: string }>(`SELECT x::text AS r FROM ${pg.escapeIdentifier(s)}.${pg.escapeIdentifier(t)} AS x`);
      parts.push(...rows.rows.map((r) => `${s}.${t}: ${r.r}`));
    }
    return parts.join('\n');
  } finally {
    await c.end();
  }
}

/** Every node's and edge's labels and properties, as text. */
export async function neo4jText(neo4jUrl: string): Promise<string> {
  const driver = neo4j.driver(neo4jUrl);
  const session = driver.session();
  try {
    const r = await session.run(
      'MATCH (n) RETURN labels(n) AS l, properties(n) AS p UNION ALL MATCH ()-[e]->() RETURN [type(e)] AS l, properties(e) AS p',
    );
    return r.records.map((x) => JSON.stringify([x.get('l'), x.get('p')])).join('\n');
  } finally {
    await session.close();
    await driver.close();
  }
}

/** Every key of the Redis database and its value, as text. */
export async function redisText(redisUrl: string): Promise<string> {
  const redis = new Redis(redisUrl);
  try {
    const keys = await redis.keys('*');
    const parts: string[] = [];
    for (const k of keys) {
      const type = await redis.type(k);
      parts.push(
        `${k} ${type === 'string' ? ((await redis.get(k)) ?? '') : JSON.stringify(type === 'hash' ? await redis.hgetall(k) : type)}`,
      );
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

/** Every point's payload in the collection, as text. */
export async function qdrantText(qdrantUrl: string): Promise<string> {
  const res = await fetch(`${qdrantUrl}/collections/apex_chunks/points/scroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ limit: 10_000, with_payload: true, with_vector: false }),
  });
  assert.equal(res.status, 200);
  return JSON.stringify(await res.json());
}

/** The four stores' live rows, by store. */
export async function serverTexts(
  databaseUrl: string,
  config: ProfileConfig,
): Promise<Record<'postgres' | 'neo4j' | 'qdrant' | 'redis', string>> {
  return {
    postgres: await postgresText(databaseUrl),
    neo4j: await neo4jText(config.neo4jUrl ?? ''),
    qdrant: await qdrantText(config.qdrantUrl ?? ''),
    redis: await redisText(config.redisUrl ?? ''),
  };
}

/** Every live row of every table of the embedded PostgreSQL (PGlite), as text (the app closed). */
export async function pgliteRows(dir: string): Promise<string> {
  const db = await PGlite.create(dir);
  try {
    const tables = await db.query<{ s: string; t: string }>(
      "SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_type = 'BASE TABLE'",
    );
    const parts: string[] = [];
    for (const { s, t } of tables.rows) {
      const rows = await db.query<{ r: string }>(`SELECT x::text AS r FROM "${s.replace(/"/g, '""')}"."${t.replace(/"/g, '""')}" AS x`);
      parts.push(...rows.rows.map((r) => `${s}.${t}: ${r.r}`));
    }
    return parts.join('\n');
  } finally {
    await db.close();
  }
}
