// Error classification of every adapter, the shared call timeout, and deterministic point ids:
// the saga engine's retry decisions depend on exactly these codes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError } from '../../src/stores/errors.js';
import { classifyNeo4jError } from '../../src/stores/neo4j/graph-store.js';
import { pointId } from '../../src/stores/point-id.js';
import { describePostgresUrl } from '../../src/stores/postgres/relational-store.js';
import { classifyQdrantError } from '../../src/stores/qdrant/vector-store.js';
import { classifyRedisError } from '../../src/stores/redis/cache-store.js';
import { classifyPgError } from '../../src/stores/postgres/sql-store.js';
import { withTimeout } from '../../src/stores/timeout.js';

const withCode = (message: string, props: Record<string, unknown>): Error => Object.assign(new Error(message), props);

void describe('store error classification', () => {
  void it('PostgreSQL: SQLSTATE and socket errors', () => {
    assert.equal(classifyPgError(withCode('deadlock', { code: '40P01' }), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyPgError(withCode('serialization', { code: '40001' }), 'x').code, 'STORE_TRANSIENT');
    assert.equal(
      classifyPgError(withCode('terminating connection due to administrator command', { code: '57P01' }), 'x').code,
      'STORE_TRANSIENT',
    );
    assert.equal(classifyPgError(withCode('connect ECONNREFUSED', { code: 'ECONNREFUSED' }), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyPgError(new Error('Connection terminated unexpectedly'), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyPgError(withCode('canceling statement due to statement timeout', { code: '57014' }), 'x').code, 'STORE_TIMEOUT');
    assert.equal(classifyPgError(withCode('violates check constraint', { code: '23514' }), 'x').code, 'STORE_PERMANENT');
    assert.equal(classifyPgError(withCode('password authentication failed', { code: '28P01' }), 'x').retryable, false);
    const fenced = new StoreError('postgres', 'STORE_FENCED', 'stale');
    assert.equal(classifyPgError(fenced, 'x'), fenced);
  });

  void it('Neo4j: driver codes', () => {
    assert.equal(classifyNeo4jError(withCode('down', { code: 'ServiceUnavailable' }), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyNeo4jError(withCode('expired', { code: 'SessionExpired' }), 'x').code, 'STORE_TRANSIENT');
    assert.equal(
      classifyNeo4jError(withCode('deadlock', { code: 'Neo.TransientError.Transaction.DeadlockDetected' }), 'x').code,
      'STORE_TRANSIENT',
    );
    assert.equal(
      classifyNeo4jError(withCode('slow', { code: 'Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration' }), 'x').code,
      'STORE_TIMEOUT',
    );
    // A lock wait the server ended at its transaction timeout rolled back: retryable, not permanent.
    for (const code of ['Neo.ClientError.Transaction.LockClientStopped', 'Neo.ClientError.Transaction.Terminated']) {
      const e = classifyNeo4jError(withCode('terminated', { code }), 'x');
      assert.equal(e.code, 'STORE_TIMEOUT', code);
      assert.equal(e.retryable, true, code);
    }
    assert.equal(classifyNeo4jError(withCode('syntax', { code: 'Neo.ClientError.Statement.SyntaxError' }), 'x').code, 'STORE_PERMANENT');
  });

  void it('Redis: reply errors vs connection errors', () => {
    const reply = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });
    assert.equal(classifyRedisError(reply('WRONGTYPE Operation against a key'), 'x').code, 'STORE_PERMANENT');
    assert.equal(classifyRedisError(reply('LOADING Redis is loading the dataset'), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyRedisError(new Error('Connection is closed.'), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyRedisError(new Error('Command timed out'), 'x').code, 'STORE_TIMEOUT');
  });

  void it('Qdrant: HTTP status and fetch failures', () => {
    const http = (status: number): Error => Object.assign(new Error(`status ${status}`), { status });
    assert.equal(classifyQdrantError(http(400), 'x').code, 'STORE_PERMANENT');
    assert.equal(classifyQdrantError(http(404), 'x').code, 'STORE_PERMANENT');
    assert.equal(classifyQdrantError(http(429), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyQdrantError(http(503), 'x').code, 'STORE_TRANSIENT');
    assert.equal(
      classifyQdrantError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNRESET' } }), 'x').code,
      'STORE_TRANSIENT',
    );
    class QdrantClientTimeoutError extends Error {
      override name = 'QdrantClientTimeoutError';
    }
    assert.equal(classifyQdrantError(new QdrantClientTimeoutError('aborted'), 'x').code, 'STORE_TIMEOUT');
  });

  void it('connection descriptions never contain credentials', () => {
    assert.equal(describePostgresUrl('postgres://user:s3cret@db.example:6543/apex'), 'db.example:6543/apex');
    assert.doesNotMatch(describePostgresUrl('not a url s3cret'), /s3cret/);
  });
});

void describe('withTimeout', () => {
  void it('rejects with STORE_TIMEOUT when the call is slower than its limit', async () => {
    const never = new Promise<never>(() => undefined);
    await assert.rejects(
      withTimeout('redis', 'get', 20, () => never),
      (err: unknown) => err instanceof StoreError && err.code === 'STORE_TIMEOUT' && err.retryable,
    );
  });

  void it('passes results and errors of a fast call through', async () => {
    assert.equal(await withTimeout('redis', 'get', 1_000, async () => 42), 42);
    await assert.rejects(
      withTimeout('redis', 'get', 1_000, async () => {
        throw new StoreError('redis', 'STORE_PERMANENT', 'bad');
      }),
      /bad/,
    );
  });

  void it('an abort before the start rejects without calling the driver', async () => {
    const controller = new AbortController();
    controller.abort();
    let called = false;
    await assert.rejects(
      withTimeout(
        'qdrant',
        'search',
        1_000,
        async () => {
          called = true;
        },
        controller.signal,
      ),
      (err: unknown) => err instanceof StoreError && err.code === 'STORE_TRANSIENT',
    );
    assert.equal(called, false);
  });

  void it('a started call is awaited even when the caller aborts (no late write after compensation)', async () => {
    const controller = new AbortController();
    let finished = false;
    const pending = withTimeout(
      'qdrant',
      'upsert',
      1_000,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        finished = true;
        return 'applied';
      },
      controller.signal,
    );
    controller.abort();
    assert.equal(await pending, 'applied');
    assert.equal(finished, true);
  });
});

void describe('pointId', () => {
  void it('is a deterministic UUIDv5 of docId:sha:idx', () => {
    const a = pointId('doc', 'abc', 0);
    assert.equal(a, pointId('doc', 'abc', 0));
    assert.notEqual(a, pointId('doc', 'abc', 1));
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
