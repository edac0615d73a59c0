// Smoke test of the real test servers (scripts/services.sh up): each one answers a trivial query
// through the same driver the adapters use (for Qdrant: the official REST client against the
// Qdrant Edge front). Fails, never skips, when a server is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import neo4j from 'neo4j-driver';
import { Redis } from 'ioredis';
import { QdrantClient } from '@qdrant/js-client-rest';
import { testServices } from '../support/services.js';

void test('testServices names the missing variable and how to start the servers', () => {
  assert.throws(
    () => testServices({}, '/nonexistent/.services/env'),
    (err: unknown) =>
      err instanceof Error && err.message.includes('APEX_TEST_DATABASE_URL') && err.message.includes('bash scripts/services.sh up'),
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

void test('the Qdrant Edge front answers the official client: create, upsert (wait), query, count, delete', async () => {
  const url = testServices().qdrantUrl;
  const root = (await (await fetch(`${url}/`)).json()) as { result: { title: string } };
  assert.match(root.result.title, /qdrant-edge front \(not the Qdrant server\)/);
  const client = new QdrantClient({ url, checkCompatibility: false });
  const name = `smoke_${randomUUID().slice(0, 8)}`;
  await client.createCollection(name, { vectors: { size: 3, distance: 'Cosine' } });
  try {
    await assert.rejects(
      client.createCollection(name, { vectors: { size: 3, distance: 'Cosine' } }),
      (e: { status?: number }) => e.status === 409,
    );
    const up = await client.upsert(name, {
      wait: true,
      points: [
        { id: 1, vector: [1, 0, 0], payload: { k: 'a' } },
        { id: randomUUID(), vector: [0, 1, 0], payload: { k: 'b' } },
      ],
    });
    assert.equal(up.status, 'completed');
    const res = await client.query(name, { query: [0.9, 0.1, 0], limit: 1, with_payload: true });
    assert.deepEqual(
      res.points.map((p) => [p.id, p.payload]),
      [[1, { k: 'a' }]],
    );
    assert.equal((await client.count(name, { filter: { must: [{ key: 'k', match: { value: 'b' } }] } })).count, 1);
    await assert.rejects(
      client.upsert(name, { wait: true, points: [{ id: 2, vector: [1, 0] }] }),
      (e: { status?: number }) => e.status === 400,
    );
  } finally {
    assert.equal(await client.deleteCollection(name), true);
  }
  assert.equal((await client.collectionExists(name)).exists, false);
});
