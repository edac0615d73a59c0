// Smoke test of the real test servers (scripts/services.sh up): each one answers a trivial query
// through the same driver the adapters use. Fails, never skips, when a server is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import { testServices } from '../support/services.js';

void test('testServices names the missing variable and how to start the servers', () => {
  assert.throws(
    () => testServices({}, '/nonexistent/.services/env'),
    (err: unknown) =>
      err instanceof Error &&
      err.message.includes('APEX_TEST_DATABASE_URL') &&
      err.message.includes('bash scripts/services.sh up'),
  );
});

void test('PostgreSQL answers select version()', async () => {
  const client = new pg.Client({ connectionString: testServices().databaseUrl });
  await client.connect();
  try {
    const res = await client.query<{ version: string; one: number }>('SELECT version() AS version, $1::int AS one', [1]);
    assert.match(res.rows[0]?.version ?? '', /^PostgreSQL \d+/);
    assert.equal(res.rows[0]?.one, 1);
  } finally {
    await client.end();
  }
});

void test('Neo4j answers a Cypher query over Bolt', async () => {
  const driver = neo4j.driver(testServices().neo4jUrl);
  try {
    const { records } = await driver.executeQuery('RETURN $n + 1 AS answer', { n: 41 });
    assert.equal(neo4j.integer.toNumber(records[0]?.get('answer')), 42);
  } finally {
    await driver.close();
  }
});

void test('Redis answers PING, SET and GET', async () => {
  const redis = new Redis(testServices().redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    assert.equal(await redis.ping(), 'PONG');
    const key = `apex:test:services:${randomUUID()}`;
    assert.equal(await redis.set(key, 'hello', 'EX', 60), 'OK');
    assert.equal(await redis.get(key), 'hello');
    await redis.del(key);
  } finally {
    redis.disconnect();
  }
});
