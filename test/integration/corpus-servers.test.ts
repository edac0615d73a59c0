// The main job against the real servers: the sample corpus goes into PostgreSQL, Neo4j, Redis and
// the Qdrant Edge front; verify finds nothing wrong; search finds a document by a phrase from
// it; ingesting again changes nothing. The saga log is on PostgreSQL here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { getDocument, searchDocuments } from '../../src/ingest/read.js';
import { readDocuments } from '../../src/ingest/sources.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { WriteResult } from '../../src/ingest/writer.js';
import { realStores, type RealStores } from '../support/real-stores.js';

let env: RealStores;
let app: App;
before(async () => {
  env = await realStores('corpus', 4, { sagaLogOnPostgres: true });
  app = await openApp({ config: env.config, embedder: new HashingEmbedder() });
});
after(async () => {
  await app.close();
  assert.deepEqual(env.qdrant.violations(), [], 'every Qdrant request and response met the OpenAPI contract');
  await env.close();
});

async function ingestAll(): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  const inFlight = new Set<Promise<void>>();
  for await (const item of readDocuments(['examples/corpus'])) {
    assert.ok(item.ok, `the sample corpus is valid: ${item.ok ? '' : item.error.message}`);
    const p: Promise<void> = app.writer.ingest(item.doc).then((r) => {
      results.push(r);
      inFlight.delete(p);
    });
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return results;
}

test('the sample corpus lands in all four stores and verify finds no violation', async () => {
  assert.match(app.profile.describe().stores.postgres, /^postgres /);
  assert.match(app.profile.describe().sagaLog, /^postgres /);
  const results = await ingestAll();
  assert.equal(results.length, 304);
  assert.deepEqual(
    results.filter((r) => r.status !== 'completed').map((r) => `${r.docId}: ${r.status} ${r.reason?.message ?? ''}`),
    [],
  );
  const report = await verifyStores(app.stores);
  assert.equal(report.committed, 304);
  assert.deepEqual(report.violations, []);
});

test('search finds a document by a phrase from it, with its graph entities', async () => {
  // The generated corpus reuses some sentences: take one that appears in this file only.
  const path = 'examples/corpus/caching/021-redis-cluster-and-cache-aside-reads.md';
  const others = readdirSync('examples/corpus', { recursive: true })
    .map(String)
    .filter((f) => /\.md$/.test(f) && !path.endsWith(f))
    .map((f) => readFileSync(join('examples/corpus', f), 'utf8'))
    .join('\n');
  const sentences = readFileSync(path, 'utf8')
    .split(/(?<=[.!?])\s+|\n/)
    .filter((x) => x.length > 40 && !x.startsWith('#'));
  const phrase = sentences.find((x) => !others.includes(x)) ?? '';
  assert.ok(phrase, 'a sentence unique to the document');
  const hits = await searchDocuments(app.stores, app.embedder, phrase, 5);
  assert.ok(hits.length > 0);
  assert.equal(hits[0]?.id, 'caching/021-redis-cluster-and-cache-aside-reads.md', `phrase: ${phrase}`);
  assert.ok((hits[0]?.entities.length ?? 0) > 0, 'entities come from Neo4j');
  const doc = await getDocument(app.stores, hits[0]?.id ?? '');
  assert.equal(doc?.cached, true, 'Redis holds the current version');
});

test('ingesting the corpus again is a no-op', async () => {
  const results = await ingestAll();
  assert.deepEqual([...new Set(results.map((r) => r.action))], ['unchanged']);
  assert.deepEqual((await verifyStores(app.stores)).violations, []);
});
