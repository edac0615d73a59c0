// Embedding requests per document with the OpenAI-compatible embedder against a local fake server
// that costs 100 ms per request + 1 ms per input (issue 18, "Embeddings"), embedded profile in a
// temp dir, c concurrent ingests. Run twice: APEX_STORE_COALESCE=off (one request per saga step)
// and on (requests of concurrent sagas coalesced). Prints one JSON row.
//   node --import tsx bench/embed-requests.ts -c 64 --n 256
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openApp } from '../src/app.js';
import { benchDocs } from './docs.js';

const { values } = parseArgs({
  options: { concurrency: { type: 'string', short: 'c', default: '64' }, n: { type: 'string', default: '256' } },
});
const concurrency = Number(values.concurrency);
const n = Number(values.n);
const DIM = 64;
let requests = 0;
let inputs = 0;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const texts = (JSON.parse(body) as { input: string[] }).input;
    requests++;
    inputs += texts.length;
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          data: texts.map((t, index) => ({ index, embedding: Array.from({ length: DIM }, (_, i) => ((t.length + i) % 7) + 1) })),
        }),
      );
    }, 100 + texts.length);
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
const dir = mkdtempSync(join(tmpdir(), 'apex-embed-bench-'));
const coalesce = process.env.APEX_STORE_COALESCE !== 'off';
const app = await openApp({
  env: {
    EMBEDDER: 'openai',
    OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    EMBEDDING_DIMENSION: String(DIM),
    APEX_STORE_COALESCE: coalesce ? 'on' : 'off',
  },
  dataDir: dir,
});
try {
  const docs = benchDocs('emb', n, 7);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < docs.length) {
        const d = docs[next++];
        if (d) await app.writer.ingest(d);
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  console.log(
    JSON.stringify({
      bench: 'embed-requests',
      coalesce,
      concurrency,
      n,
      requests,
      inputs,
      requests_per_doc: +(requests / n).toFixed(3),
      docs_per_s: +(n / wall).toFixed(1),
      load: (await import('node:os')).loadavg()[0],
    }),
  );
} finally {
  await app.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
