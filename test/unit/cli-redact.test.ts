// The CLI's error formatter never prints a credential: messages are taken from the real drivers
// where a driver echoes what it was given (undici's fetch, neo4j-driver), and shaped like the
// others' (libpq keyword strings, request headers, JSON bodies). Text without credentials, such
// as PostgreSQL's "password authentication failed", must come back unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import neo4j from 'neo4j-driver';
import { describeError, formatError } from '../../src/cli/errors.js';
import { redactCredentials, redactUrl } from '../../src/lib/redact.js';
import { describeFailure } from '../../src/fleet/describe-error.js';
import { StoreError } from '../../src/stores/errors.js';

const SECRET = 's3cr3t-Value_42';

function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a throw');
}

async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected a rejection');
}

test('real driver messages: fetch (Qdrant REST) and neo4j-driver echo the URL they were given', async () => {
  const fetchErr = await rejectionOf(fetch(`http://apex:${SECRET}@127.0.0.1:1/collections`));
  assert.match(fetchErr.message, new RegExp(SECRET), 'precondition: undici puts the URL in its message');
  const neo4jErr = thrownBy(() => neo4j.driver(`bolt://127.0.0.1:1?password=${SECRET}`));
  assert.match(neo4jErr.message, new RegExp(SECRET), 'precondition: neo4j-driver puts the URL in its message');
  for (const err of [fetchErr, neo4jErr]) {
    const line = formatError(err);
    assert.doesNotMatch(line, new RegExp(SECRET), line);
    assert.match(line, /\*\*\*/);
  }
  assert.match(formatError(fetchErr), /http:\/\/\*\*\*@127\.0\.0\.1:1\/collections/);
  assert.match(formatError(neo4jErr), /\?password=\*\*\*'/);
});

const SHAPED: ReadonlyArray<readonly [string, string]> = [
  [
    `postgres: connect failed: postgresql://apex:${SECRET}@db.internal:5432/apex`,
    'postgres: connect failed: postgresql://***@db.internal:5432/apex',
  ],
  [`redis: connect failed: redis://:${SECRET}@127.0.0.1:6379/0`, 'redis: connect failed: redis://***@127.0.0.1:6379/0'],
  [
    `invalid connection string "host=10.0.0.5 port=5432 user=apex password=${SECRET} dbname=apex"`,
    'invalid connection string "host=10.0.0.5 port=5432 user=apex password=*** dbname=apex"',
  ],
  [
    `qdrant: request failed, headers: {"api-key":"${SECRET}","content-type":"application/json"}`,
    'qdrant: request failed, headers: {"api-key":"***","content-type":"application/json"}',
  ],
  // Up to the next space: a password may contain ')' and must not half leak.
  [`qdrant: 403 Forbidden (api-key: ${SECRET})`, 'qdrant: 403 Forbidden (api-key: ***'],
  [`password=ab)c}d]e next`, 'password=*** next'],
  [`embedder: 401 Authorization: Bearer sk-proj-${SECRET}`, 'embedder: 401 Authorization: ***'],
  [
    `request {"method":"POST","headers":{"Authorization":"Basic ${SECRET}"}}`,
    'request {"method":"POST","headers":{"Authorization":"***"}}',
  ],
  [`retrying with Bearer ${SECRET}`, 'retrying with Bearer ***'],
  [`GET https://api.example.com/v1/x?api_key=${SECRET}&page=2 failed`, 'GET https://api.example.com/v1/x?api_key=***&page=2 failed'],
  [`GET https://hooks.example.com/p?token=${SECRET} failed`, 'GET https://hooks.example.com/p?token=*** failed'],
  [`config {"user":"apex","password":"${SECRET}"}`, 'config {"user":"apex","password":"***"}'],
  [`NEO4J_PASSWORD=${SECRET} rejected`, 'NEO4J_PASSWORD=*** rejected'],
  [`env OPENAI_API_KEY=sk-${SECRET} QDRANT_API_KEY='${SECRET}'`, 'env OPENAI_API_KEY=*** QDRANT_API_KEY=***'],
  [`{"db_password": "${SECRET}", "x-api-key": "${SECRET}"}`, '{"db_password": "***", "x-api-key": "***"}'],
];

test('driver-shaped messages: URL userinfo, libpq keywords, api-key and Authorization headers, JSON, query strings', () => {
  for (const [message, expected] of SHAPED) {
    assert.equal(redactCredentials(message), expected);
    const d = describeError(new StoreError('postgres', 'STORE_TRANSIENT', message));
    assert.doesNotMatch(d.message, new RegExp(`${SECRET}|ab\\)c`), d.message);
    assert.equal(d.code, 'STORE_TRANSIENT');
    assert.equal(d.expected, true);
  }
});

test('text without credentials is unchanged, and redaction is idempotent', () => {
  const clean = [
    'password authentication failed for user "apex"',
    'The client is unauthorized due to authentication failure.',
    'saga 01a2 token 5 is stale for document "a" (fence at 7)',
    'fencing token: 7',
    'Bearer authentication required',
    'connect ECONNREFUSED 127.0.0.1:5432',
    'GET https://example.com/docs/a@b failed',
    'neo4j at 127.0.0.1:7687: ServiceUnavailable',
  ];
  for (const text of clean) assert.equal(redactCredentials(text), text);
  for (const [message] of SHAPED) assert.equal(redactCredentials(redactCredentials(message)), redactCredentials(message));
});

test('unexpected errors keep their stack frames but not the secret; worker warnings use the same helper', () => {
  const err = new Error(`boom at postgres://apex:${SECRET}@h/db`);
  const line = formatError(err);
  assert.match(line, /^apex-memory: error \[INTERNAL\]: boom at postgres:\/\/\*\*\*@h\/db\n\s+at /);
  assert.doesNotMatch(line, new RegExp(SECRET));
  assert.doesNotMatch(describeFailure(new Error(`api-key: ${SECRET}`)), new RegExp(SECRET));
  assert.equal(redactUrl(`postgres://apex:${SECRET}@h:5432/db?password=${SECRET}`), 'postgres://h:5432/db');
});
