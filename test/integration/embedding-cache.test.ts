// The embedding cache on the documents' PostgreSQL (the real server; then PGlite, the embedded
// profile's), with the OpenAI-compatible embedder against a local fake server that counts what it
// embeds (test/support/fake-embeddings.ts). The sequences a user creates:
//  (a) a process dies in qdrant_write after the vectors were paid; `sagas recover` in a new process
//      resumes the step: zero embedding requests;
//  (b) an update that changes one chunk of three embeds that chunk only, and the replaced chunk's
//      vector is forgotten;
//  (c) the cache survives closing and reopening the app: another document with known chunks
//      embeds only its new one;
//  (d) a delete forgets only the vectors no other document uses (never an entry another
//      document's chunk still uses), and `verify --erased` sees no cached embedding of it.
// Other stores are the embedded stand-ins (their own temp dir): the cache lives in PostgreSQL only.
// The same sequence on PGlite costs ~25 s on this machine (a new data directory, four app opens):
// it runs at RELIABILITY_SCALE>1; the PGlite cache's SQL runs in CI in the relational conformance
// suite (test/support/conformance/embedding-cache.ts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openApp, type App } from '../../src/app.js';
import type { ProfileConfig } from '../../src/config/profile.js';
import { textSha256 } from '../../src/ingest/chunk-embeddings.js';
import { checkErasure } from '../../src/ingest/erasure.js';
import type { ValidDocument } from '../../src/ingest/schema.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { DocumentVersion, StoreSet, WriteContext } from '../../src/stores/types.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../support/fake-embeddings.js';
import { testPgAdminUrl, testServices } from '../support/services.js';
import { reliabilityScale } from '../support/sim-results.js';

/** A paragraph of ~700 characters: one chunk each (target 800). */
const para = (tag: string): string => `${tag} `.repeat(1 + Math.floor(700 / (tag.length + 1))).trim();
const P1 = para('alpha-one');
const P2 = para('bravo-two');
const P2X = para('bravo-two-changed');
const P3 = para('charlie-three');
const Q = para('quebec-new');
const doc = (id: string, paras: string[]): ValidDocument => ({ id, title: `t ${id}`, text: paras.join('\n\n'), metadata: {} });

interface Profile {
  name: string;
  config(dataDir: string): Promise<ProfileConfig>;
  /** The hashes in the cache table (PostgreSQL: read directly; PGlite: undefined, checked by behaviour). */
  cached(): Promise<Set<string> | undefined>;
  close(): Promise<void>;
}

async function serverProfile(): Promise<Profile> {
  const admin = new pg.Client({ connectionString: testPgAdminUrl() });
  await admin.connect();
  const db = `apex_it_embcache_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db} OWNER apex`);
  await admin.end();
  const url = new URL(testServices().databaseUrl);
  url.pathname = `/${db}`;
  const databaseUrl = url.toString();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    name: 'PostgreSQL server',
    config: async (dataDir) => ({ dataDir, databaseUrl, storeTimeoutMs: 10_000 }),
    cached: async () => {
      const rows = await client.query<{ text_sha256: string }>('SELECT text_sha256 FROM embedding_cache');
      return new Set(rows.rows.map((r) => r.text_sha256));
    },
    close: async () => {
      await client.end();
      const a = new pg.Client({ connectionString: testPgAdminUrl() });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await a.end();
    },
  };
}

function embeddedProfile(): Profile {
  return { name: 'PGlite (embedded)', config: async (dataDir) => ({ dataDir }), cached: async () => undefined, close: async () => {} };
}

const PROFILES: Array<[string, () => Promise<Profile>]> = [
  ['the PostgreSQL server', serverProfile],
  ...(reliabilityScale() > 1 ? [['PGlite (embedded profile)', async () => embeddedProfile()] as [string, () => Promise<Profile>]] : []),
];

for (const [label, make] of PROFILES) {
  void describe(`embedding cache on ${label}`, () => {
    let profile: Profile;
    let fake: FakeEmbeddings;
    let dataDir: string;
    const env = (): Record<string, string> => ({
      EMBEDDER: 'openai',
      OPENAI_BASE_URL: fake.url,
      EMBEDDING_MODEL: 'fake-model',
      EMBEDDING_DIMENSION: String(fake.dimension),
      APEX_EMBEDDING_CACHE: 'on',
    });
    /** Opens the app; `hangQdrant` makes qdrant.writeVersion wait until the engine aborts it (a dying process). */
    const open = async (hang?: { reached: () => void }): Promise<App> =>
      openApp({
        env: env(),
        config: await profile.config(dataDir),
        leaseMs: 2_000,
        ...(hang
          ? {
              wrapStores: (stores: StoreSet): StoreSet => ({
                ...stores,
                qdrant: new Proxy(stores.qdrant, {
                  get(t, prop, r) {
                    if (prop !== 'writeVersion') return Reflect.get(t, prop, r);
                    return (_v: DocumentVersion, w: WriteContext) =>
                      new Promise<void>((_, reject) => {
                        hang.reached();
                        w.signal?.addEventListener('abort', () => reject(new Error('process stopped')), { once: true });
                      });
                  },
                }),
              }),
            }
          : {}),
      });

    before(async () => {
      profile = await make();
      fake = await startFakeEmbeddings();
      dataDir = mkdtempSync(join(tmpdir(), 'apex-it-embcache-'));
    });
    after(async () => {
      await fake.close();
      await profile.close();
      rmSync(dataDir, { recursive: true, force: true });
    });

    void it('(a) a resumed qdrant_write makes zero embedding requests', async () => {
      let reached!: () => void;
      const atQdrant = new Promise<void>((r) => (reached = r));
      const app1 = await open({ reached });
      const run = app1.writer.ingest(doc('A', [P1, P2, P3])).catch((err: unknown) => err);
      await atQdrant; // the vectors were paid (and cached) just before this write
      assert.equal(fake.inputs, 3);
      await app1.close(); // the step stops where it is; its lease is released for another process
      await run;
      const app2 = await open();
      try {
        fake.reset();
        assert.ok((await app2.engine.recover()) >= 1, 'the saga was claimed');
        await app2.engine.idle();
        assert.equal((await app2.stores.postgres.getDocument('A'))?.ingestionStatus, 'committed');
        assert.equal(fake.requests, 0, `the resumed step embedded ${fake.texts.length} text(s) again`);
        assert.deepEqual((await verifyStores(app2.stores)).violations, []);
      } finally {
        await app2.close();
      }
    });

    void it('(b) an update that changes one chunk embeds only that chunk; the replaced vector goes', async () => {
      const app = await open();
      try {
        fake.reset();
        const r = await app.writer.ingest(doc('A', [P1, P2X, P3]));
        assert.equal(r.status, 'completed');
        assert.deepEqual(fake.texts, [P2X]);
        const cached = await profile.cached();
        if (cached) assert.deepEqual(cached, new Set([P1, P2X, P3].map(textSha256)));
      } finally {
        await app.close();
      }
    });

    void it('(c) the cache survives reopening: a new document embeds only its unknown chunk', async () => {
      const app = await open();
      try {
        fake.reset();
        assert.equal((await app.writer.ingest(doc('B', [P1, P2X, Q]))).status, 'completed');
        assert.deepEqual(fake.texts, [Q]);
      } finally {
        await app.close();
      }
    });

    void it('(d) a delete forgets only the vectors no other document uses', async () => {
      const app = await open();
      try {
        assert.equal((await app.writer.delete('A')).status, 'completed');
        // A held P1, P2X, P3; B holds P1, P2X, Q: only P3 was A's alone.
        const cached = await profile.cached();
        if (cached) assert.deepEqual(cached, new Set([P1, P2X, Q].map(textSha256)));
        const receipt = await checkErasure(app.stores, app.profile.log, 'A');
        const pgCheck = receipt.stores.find((s) => s.store === 'postgres');
        assert.ok(pgCheck && !pgCheck.traces.some((x) => x.includes('embedding')), JSON.stringify(pgCheck));
        // By behaviour (both profiles): B's vectors are still cached, A's own is not.
        fake.reset();
        assert.equal((await app.writer.ingest(doc('C', [P1, P2X, P3]))).status, 'completed');
        assert.deepEqual(fake.texts, [P3]);
        // The last users go: nothing is left in the cache.
        for (const id of ['B', 'C']) assert.equal((await app.writer.delete(id)).status, 'completed');
        const left = await profile.cached();
        if (left) assert.equal(left.size, 0);
        fake.reset();
        assert.equal((await app.writer.ingest(doc('D', [P1]))).status, 'completed');
        assert.deepEqual(fake.texts, [P1]);
        assert.deepEqual((await verifyStores(app.stores)).violations, []);
      } finally {
        await app.close();
      }
    });
  });
}
