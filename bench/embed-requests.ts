// Embedding requests per document with the OpenAI-compatible embedder against a local fake server
// that costs 100 ms per request + 1 ms per input (issue 18, "Embeddings"), c concurrent ingests,
// then the same documents updated with one chunk changed each (the embedding cache's case).
// Embedded profile in a temp dir by default; BENCH_DATABASE_URL puts the documents (and the
// embedding cache) on a PostgreSQL server (the other stores stay embedded). Modes, run one per
// process: APEX_STORE_COALESCE=off|on (requests of concurrent sagas coalesced) and
// APEX_EMBEDDING_CACHE=off|on (the persistent cache). Prints one JSON row.
//   APEX_STORE_COALESCE=off APEX_EMBEDDING_CACHE=off node --import tsx bench/embed-requests.ts -c 64 --n 192   # before
//   node --import tsx bench/embed-requests.ts -c 64 --n 192                                                     # after
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.js';
import type { ValidDocument } from '../src/ingest/schema.js';
import { startFakeEmbeddings } from '../test/support/fake-embeddings.js';
import { benchDocs } from './docs.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', short: 'c', default: '64' },
    n: { type: 'string', default: '192' },
    // A provider serves a bounded number of requests at once (rate limits): 0 = unlimited.
    'provider-concurrency': { type: 'string', default: '0' },
  },
});
const concurrency = Number(values.concurrency);
const n = Number(values.n);
const providerConcurrency = Number(values['provider-concurrency']);
const fake = await startFakeEmbeddings({
  dimension: 64,
  msPerRequest: 100,
  msPerInput: 1,
  ...(providerConcurrency > 0 ? { concurrency: providerConcurrency } : {}),
});
const dir = mkdtempSync(join(tmpdir(), 'apex-embed-bench-'));
const coalesce = process.env.APEX_STORE_COALESCE !== 'off';
const cache = process.env.APEX_EMBEDDING_CACHE ?? 'on';
const databaseUrl = process.env.BENCH_DATABASE_URL;
const app = await openApp({
  env: {
    EMBEDDER: 'openai',
    OPENAI_BASE_URL: fake.url,
    EMBEDDING_DIMENSION: String(fake.dimension),
    APEX_STORE_COALESCE: coalesce ? 'on' : 'off',
    APEX_EMBEDDING_CACHE: cache,
  },
  config: { dataDir: dir, ...(databaseUrl ? { databaseUrl } : {}), coalesce },
});

async function pass(docs: ValidDocument[]): Promise<Record<string, number>> {
  fake.reset();
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < docs.length) {
        const d = docs[next++];
        if (d && (await app.writer.ingest(d)).status !== 'completed') failed++;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  return {
    requests: fake.requests,
    inputs: fake.inputs,
    requests_per_doc: +(fake.requests / docs.length).toFixed(3),
    inputs_per_doc: +(fake.inputs / docs.length).toFixed(2),
    docs_per_s: +(docs.length / wall).toFixed(1),
    failed,
  };
}

try {
  // Unique ids per run: a PostgreSQL server may hold an earlier run's documents.
  const docs = benchDocs(`emb${process.pid}`, n, 7);
  const ingest = await pass(docs);
  // One chunk changed per document: a sentence appended to the last chunk.
  const update = await pass(docs.map((d) => ({ ...d, text: `${d.text} Updated by the bench.` })));
  console.log(
    JSON.stringify({
      bench: 'embed-requests',
      profile: databaseUrl ? 'PostgreSQL server (cache) + embedded stand-ins' : 'embedded (PGlite cache)',
      coalesce,
      cache,
      concurrency,
      provider_concurrency: providerConcurrency || 'unlimited',
      n,
      ingest,
      update,
      load: +(loadavg()[0] ?? 0).toFixed(1),
    }),
  );
  if (databaseUrl) for (const d of docs) await app.writer.delete(d.id);
} finally {
  await app.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
}
