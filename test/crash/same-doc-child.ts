// One writer process of the same-document stress test: until its deadline it ingests new content
// into, and deletes, documents drawn from a small shared set (so other processes hit the same
// documents all the time), and like a worker it recovers sagas whose owners died or whose leases
// expired. The parent SIGKILLs and SIGSTOPs these processes at random. Seeded: STRESS_SEED.
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { validateDocument } from '../../src/ingest/schema.js';
import { seededRandom } from '../../src/saga/index.js';
import type { ProfileConfig } from '../../src/config/profile.js';

const config = JSON.parse(process.env.STRESS_CONFIG ?? '{}') as ProfileConfig;
const seed = Number(process.env.STRESS_SEED ?? 1);
const docs = Number(process.env.STRESS_DOCS ?? 20);
const deadline = Number(process.env.STRESS_DEADLINE ?? Date.now() + 10_000);
const leaseMs = Number(process.env.STRESS_LEASE_MS ?? 500);
const random = seededRandom(seed);

const app = await openApp({ config, embedder: new HashingEmbedder(), leaseMs });
let stopped = false;
const recovering = (async () => {
  while (!stopped) {
    await app.engine.recover({ limit: 16 }).catch(() => 0);
    await new Promise((r) => setTimeout(r, 150));
  }
})();

const FILLER = 'The write path keeps PostgreSQL, Neo4j, Qdrant and Redis in step with Project Atlas and Redis Cluster.';
let n = 0;
async function writer(lane: number): Promise<void> {
  while (Date.now() < deadline) {
    const id = `stress-${String(Math.floor(random() * docs)).padStart(2, '0')}`;
    n++;
    try {
      if (random() < 0.25) {
        await app.writer.delete(id);
      } else {
        const text = `Document ${id}, revision ${process.pid}-${lane}-${n}. ${FILLER.repeat(1 + Math.floor(random() * 6))}`;
        await app.writer.ingest(validateDocument({ id, title: `Stress ${id}`, text }));
      }
    } catch {
      // refused (document held by a stuck saga, a store hiccup): the parent's checks tell
    }
  }
}
await Promise.all([0, 1, 2, 3].map((lane) => writer(lane)));
stopped = true;
await recovering;
await app.close({ graceMs: 5_000 });
console.log(`child ${process.pid} done after ${n} writes`);
