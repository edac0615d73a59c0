// Durability of the Qdrant Edge front: documents ingested by sagas (Qdrant writes with wait=true,
// which the front answers only after flushing the shard) are all there after the front is killed
// with SIGKILL and started again on the same data directory. Then a new ingest saga's Qdrant step
// succeeds on the restarted front and verify reports no violation. The front here is a private
// one (own port and data dir), so the shared front on the services port is never killed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { searchDocuments } from '../../src/ingest/read.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { startEdgeFrontProcess, type EdgeFrontProcess } from '../support/qdrant-edge-process.js';
import { realStores, type RealStores } from '../support/real-stores.js';

const dataDir = mkdtempSync(join(tmpdir(), 'apex-qdrant-edge-restart-'));
let front: EdgeFrontProcess;
let env: RealStores;
let app: App;

const doc = (i: number): { id: string; title: string; text: string; metadata: Record<string, unknown> } => ({
  id: `restart-${i}`,
  title: `Restart ${i}`,
  text: `Document ${i} of the restart test mentions Vega Observatory and Lumen Harbor number ${i}. `.repeat(40),
  metadata: {},
});

async function pointCount(url: string): Promise<number> {
  const res = await fetch(`${url}/collections/apex_chunks/points/count`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ exact: true }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { result: { count: number } }).result.count;
}

before(async () => {
  front = await startEdgeFrontProcess(dataDir);
  env = await realStores('qdrant_restart', 7, { qdrantTarget: front.url });
  app = await openApp({ config: env.config, embedder: new HashingEmbedder() });
});
after(async () => {
  await app.close();
  await env.close();
  front.proc.kill('SIGTERM');
  await front.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

test('points written with wait=true survive SIGKILL of the front; the next saga succeeds; verify reports 0', async () => {
  for (let i = 0; i < 6; i += 1) {
    const r = await app.writer.ingest(doc(i));
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
  }
  const before = await pointCount(front.url);
  const versions = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => app.stores.qdrant.listVersions(`restart-${i}`)));
  assert.ok(before > 6, `several chunks per document, got ${before}`);

  const port = Number(new URL(front.url).port);
  front.proc.kill('SIGKILL');
  assert.equal((await front.exited).signal, 'SIGKILL');
  front = await startEdgeFrontProcess(dataDir, port); // same port: the app keeps its QDRANT_URL

  assert.equal(await pointCount(front.url), before, 'every point is back after the restart');
  assert.deepEqual(await Promise.all([0, 1, 2, 3, 4, 5].map((i) => app.stores.qdrant.listVersions(`restart-${i}`))), versions);

  const r = await app.writer.ingest(doc(6));
  assert.equal(r.status, 'completed', JSON.stringify(r.reason));
  assert.ok((await app.stores.qdrant.listVersions('restart-6'))[0]?.chunkCount, 'the Qdrant step wrote its points');
  const hits = await searchDocuments(app.stores, app.embedder, 'Vega Observatory and Lumen Harbor number 3', 3);
  assert.ok(
    hits.some((h) => h.id === 'restart-3'),
    JSON.stringify(hits),
  );
  const report = await verifyStores(app.stores);
  assert.equal(report.committed, 7);
  assert.deepEqual(report.violations, []);
  assert.deepEqual(env.qdrant.violations(), [], 'every request and response met the contract (when it is available)');
});
