// The stores and processes of the reindex bench (bench/reindex.ts). Servers profile: fresh real
// stores (bench/servers-setup.ts) and TWO apps on them, the serving process (the writer) and the
// `apex-memory reindex` process, as a deployment runs them: separate engines, store clients and
// group commits, one record each. Embedded profile: one app (one PGlite data directory has one
// process), so the writer and the reindex loop share the engine there, as they would in one
// process.
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, type App, type AppIndex } from '../src/app.js';
import type { Env } from '../src/config/profile.js';
import { HashingEmbedder } from '../src/ingest/embedder.js';
import type { ControlDeps } from '../src/ingest/reindex/control.js';
import type { ValidDocument } from '../src/ingest/schema.js';
import { freshStores, serviceUrls } from './servers-setup.js';

export type ReindexProfile = 'servers' | 'embedded';

/** The dimension the corpus is seeded at and the one the reindex builds (issue 25's example). */
export const FROM_DIMENSION = 256;
export const TO_DIMENSION = 384;

export interface ReindexSetup {
  profile: ReindexProfile;
  /** The serving process: the steady writer runs here (and on embedded the reindex loop too). */
  app: App;
  /** The process running the reindex loop (the same app on embedded). */
  reindexApp: App;
  close(): Promise<void>;
}

export async function openReindexSetup(profile: ReindexProfile, log: 'sqlite' | 'postgres', env: Env = {}): Promise<ReindexSetup> {
  const embedder = (): HashingEmbedder => new HashingEmbedder(FROM_DIMENSION);
  if (profile === 'embedded') {
    const dataDir = mkdtempSync(join(tmpdir(), 'apex-bench-reindex-'));
    const app = await openApp({ env, dataDir, embedder: embedder() });
    return {
      profile,
      app,
      reindexApp: app,
      close: async () => {
        await app.close();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const fresh = await freshStores(serviceUrls(), log);
  const app = await openApp({ env, config: fresh.config, embedder: embedder() });
  const reindexApp = await openApp({ env, config: fresh.config, embedder: embedder() });
  return {
    profile,
    app,
    reindexApp,
    close: async () => {
      await reindexApp.close();
      await app.close();
      await fresh.drop();
    },
  };
}

export function indexOf(app: App): AppIndex {
  if (!app.index) throw new Error('this profile keeps no active index record: the reindex bench needs PostgreSQL or PGlite');
  return app.index;
}

export function controlDeps(app: App): ControlDeps {
  const index = indexOf(app);
  return { stores: app.stores, record: index.record, vectors: app.stores.qdrant, base: index.base };
}

/** Ingests `docs` at concurrency `c`; throws on the first document that does not complete (a
 * bench on a half-seeded corpus would measure something else). */
export async function ingestAll(app: App, docs: readonly ValidDocument[], c: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let d = docs[next++]; d !== undefined; d = docs[next++]) {
      const r = await app.writer.ingest(d);
      if (r.status !== 'completed') throw new Error(`seeding ${d.id}: ${r.status}`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(c, docs.length) }, worker));
}

/** The 1-minute load average, rounded (every row carries it at its start and end). */
export function load1(): number {
  return +(loadavg()[0] ?? 0).toFixed(2);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
