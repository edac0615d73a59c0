// A store or embedder error becomes a saga's failure reason in the durable log, and every view of
// the log (sagas show/list, the API, the dashboard) prints it. Driver messages can echo a
// connection string or a password: the errors redact themselves when they are made, so the log
// never holds the secret.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { EmbedderError } from '../../src/ingest/errors.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { StoreError } from '../../src/stores/errors.js';
import type { StoreSet } from '../../src/stores/types.js';
import { closeStores, openMemoryStores } from '../support/memory-stores.js';

const SECRET = 'hunter2-s3cret';
const DRIVER_MESSAGE = `could not connect to bolt://neo4j:${SECRET}@db.internal:7687 (password=${SECRET})`;

const embedder = new HashingEmbedder();
let stores: StoreSet;
before(async () => {
  stores = await openMemoryStores(embedder.dimension);
});
after(() => closeStores(stores));

test('StoreError and EmbedderError messages carry no credentials; code and store are kept', () => {
  const s = new StoreError('neo4j', 'STORE_PERMANENT', DRIVER_MESSAGE);
  assert.ok(!s.message.includes(SECRET), s.message);
  assert.match(s.message, /^neo4j: could not connect to bolt:\/\/\*\*\*@db\.internal:7687/);
  assert.equal(s.code, 'STORE_PERMANENT');
  const e = new EmbedderError('EMBED_TRANSIENT', `request to https://u:${SECRET}@api.example/v1 failed; api_key=${SECRET}`);
  assert.ok(!e.message.includes(SECRET), e.message);
  assert.equal(e.code, 'EMBED_TRANSIENT');
});

test('a saga that fails on such an error keeps no secret in the saga log', async () => {
  const log = new MemorySagaLog();
  const engine = new SagaEngine({ log });
  const failing: StoreSet = {
    ...stores,
    neo4j: Object.assign(Object.create(stores.neo4j) as StoreSet['neo4j'], {
      writeVersion: () => Promise.reject(new StoreError('neo4j', 'STORE_PERMANENT', DRIVER_MESSAGE)),
    }),
  };
  const writer = new MemoryWriter({ stores: failing, engine, embedder });
  const result = await writer.ingest({ id: 'leaky', title: 'Leaky', text: 'A document whose graph write fails.', metadata: {} });
  assert.equal(result.status, 'compensated');
  const saved = await log.load(result.sagaId ?? '');
  assert.ok(saved, 'the saga is in the log');
  const everything = JSON.stringify(saved);
  assert.ok(everything.includes('could not connect to bolt://***@db.internal'), 'the reason is kept, redacted');
  assert.ok(!everything.includes(SECRET), 'no record of the saga holds the password');
});
