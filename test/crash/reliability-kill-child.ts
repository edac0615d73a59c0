// A writer of the kill campaign (reliability-kill-campaign.test.ts): prints READY once its app is
// open, then ingests new content into (updates) and deletes documents of a small shared set from
// four lanes at once, and like a worker recovers sagas of dead owners, until it is SIGKILLed (it
// never stops on its own). Seeded: KILL_SEED. Environment: KILL_CONFIG (ProfileConfig JSON),
// KILL_LEASE_MS, KILL_DOCS.
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { validateDocument } from '../../src/ingest/schema.js';
import { seededRandom } from '../../src/saga/index.js';
import type { ProfileConfig } from '../../src/config/profile.js';

const config = JSON.parse(process.env.KILL_CONFIG ?? '{}') as ProfileConfig;
const random = seededRandom(Number(process.env.KILL_SEED ?? 1));
const docs = Number(process.env.KILL_DOCS ?? 20);
// Start-up in two parts, for the parent's figures: loading the code (tsx), then opening the app.
const loaded = performance.now();
const app = await openApp({ config, embedder: new HashingEmbedder(), leaseMs: Number(process.env.KILL_LEASE_MS ?? 1_000) });
console.log(`READY load=${Math.round(loaded)} open=${Math.round(performance.now() - loaded)}`);

void (async () => {
  for (;;) {
    await app.engine.recover({ limit: 16 }).catch(() => 0);
    await new Promise((r) => setTimeout(r, 150));
  }
})();

const FILLER = 'Kill campaign text about Project Atlas, Redis Cluster and the Orion Nebula. ';
let n = 0;
async function lane(id: number): Promise<never> {
  for (;;) {
    const doc = `kill-${String(Math.floor(random() * docs)).padStart(2, '0')}`;
    n++;
    try {
      if (random() < 0.25) await app.writer.delete(doc);
      else
        await app.writer.ingest(
          validateDocument({
            id: doc,
            title: `Kill ${doc}`,
            text: `${doc} revision ${process.pid}-${id}-${n}. ${FILLER.repeat(1 + Math.floor(random() * 5))}`,
          }),
        );
    } catch {
      // refused (held by another saga that has not ended, a store hiccup): the parent's checks tell
    }
  }
}
await Promise.all([0, 1, 2, 3].map((i) => lane(i)));
