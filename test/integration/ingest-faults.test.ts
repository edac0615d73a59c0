// For each step of each plan, against the real servers (PostgreSQL, Neo4j, Redis, and the Qdrant
// Edge front), a fault is injected at that step's write, before and after the write applies.
// Before the pivot the saga compensates and the document is nowhere; after it the step is retried
// until the saga completes. `verify` reports 0 violations after every case. Updates that fail keep
// the last committed version; deletes that fail leave the document fully present.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { getDocument, searchDocuments } from '../../src/ingest/read.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { ValidDocument } from '../../src/ingest/schema.js';
import type { IngestPlan } from '../../src/ingest/sagas/ingest-saga.js';
import { withFaults, type FaultControl, type FaultTiming } from '../../src/stores/faults.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { realStores, type RealStores } from '../support/real-stores.js';

interface Harness {
  app: App;
  faults: Record<StoreName, FaultControl>;
  raw: StoreSet;
}

async function harness(env: RealStores, plan: IngestPlan): Promise<Harness> {
  const faults = {} as Record<StoreName, FaultControl>;
  let raw: StoreSet | undefined;
  const app = await openApp({
    config: env.config,
    embedder: new HashingEmbedder(),
    plan,
    leaseMs: 30_000,
    wrapStores: (stores) => {
      raw = stores;
      const wrap = <K extends StoreName>(k: K): StoreSet[K] => {
        const w = withFaults(stores[k], {});
        faults[k] = w.faults;
        return w.store;
      };
      return { postgres: wrap('postgres'), neo4j: wrap('neo4j'), qdrant: wrap('qdrant'), redis: wrap('redis') };
    },
  });
  return { app, faults, raw: raw as StoreSet };
}

function doc(id: string, text = `The Apex Team wrote ${id} about Redis Cluster and Neo4j Graphs.`): ValidDocument {
  return { id, title: `Title of ${id} with 'quotes' and \\ backslash; MATCH (n) DETACH DELETE n`, text, metadata: { case: id } };
}

async function assertClean(h: Harness): Promise<void> {
  const report = await verifyStores(h.raw);
  assert.deepEqual(report.violations, [], 'verify reports no violation');
}

async function assertAbsent(h: Harness, id: string): Promise<void> {
  assert.deepEqual(await h.raw.neo4j.listVersions(id), [], 'nothing in Neo4j');
  assert.deepEqual(await h.raw.qdrant.listVersions(id), [], 'nothing in Qdrant');
  assert.equal(await h.raw.redis.get(id), undefined, 'nothing in Redis');
  const row = await h.raw.postgres.getDocument(id);
  assert.ok(!row || row.ingestionStatus !== 'committed', 'not committed in PostgreSQL');
  assert.equal(row?.contentSha256 ?? null, null);
}

// Which store method each step writes through, per plan; and whether the step is before the pivot.
const STEPS: Record<IngestPlan, Array<{ step: string; store: StoreName; method: string; beforePivot: boolean }>> = {
  default: [
    { step: 'postgres_pending', store: 'postgres', method: 'putPending', beforePivot: true },
    { step: 'neo4j_write', store: 'neo4j', method: 'writeVersion', beforePivot: true },
    { step: 'qdrant_write', store: 'qdrant', method: 'writeVersion', beforePivot: true },
    { step: 'postgres_commit', store: 'postgres', method: 'commit', beforePivot: true },
    { step: 'redis_write', store: 'redis', method: 'put', beforePivot: false },
  ],
  adr: [
    { step: 'neo4j_write', store: 'neo4j', method: 'writeVersion', beforePivot: true },
    { step: 'postgres_pending', store: 'postgres', method: 'putPending', beforePivot: true },
    { step: 'qdrant_write', store: 'qdrant', method: 'writeVersion', beforePivot: true },
    { step: 'redis_write', store: 'redis', method: 'put', beforePivot: true },
    { step: 'postgres_commit', store: 'postgres', method: 'commit', beforePivot: true },
  ],
};

let env: RealStores;
before(async () => {
  env = await realStores('faults', 3);
});
after(async () => {
  assert.deepEqual(env.qdrant.violations(), [], 'every Qdrant request and response met the OpenAPI contract');
  await env.close();
});

for (const plan of ['default', 'adr'] as const) {
  describe(`ingest, plan ${plan}`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(env, plan);
    });
    after(async () => h.app.close());

    test('a clean ingest writes all four stores and search finds it', async () => {
      const d = doc(`${plan}-clean`, 'Quasar Lighthouse keeps the archive of Zanzibar Harbour shipping notes.');
      const r = await h.app.writer.ingest(d);
      assert.equal(r.status, 'completed');
      assert.equal((await getDocument(h.raw, d.id))?.title, d.title);
      const hits = await searchDocuments(h.raw, h.app.embedder, 'Zanzibar Harbour shipping', 3);
      // Both plans ingest this same text, so their documents tie for first place; Qdrant orders
      // equal scores as it likes (the old stub happened to order them by id).
      const hit = hits.find((x) => x.id === d.id);
      assert.ok(hit, JSON.stringify(hits));
      assert.equal(hit.score, hits[0]?.score);
      assert.ok(hit.entities.includes('Zanzibar Harbour'));
      await assertClean(h);
    });

    for (const s of STEPS[plan]) {
      for (const when of ['before', 'after'] as FaultTiming[]) {
        // A pivot that applied cannot fail permanently in PostgreSQL (one transaction); what
        // happens is a lost acknowledgement, a transient error: retried, idempotent.
        const permanent = s.beforePivot && !(s.step === 'postgres_commit' && when === 'after');
        test(`${permanent ? 'permanent' : 'transient'} fault ${when} ${s.step} -> ${permanent ? 'compensated' : 'completed'}`, async () => {
          const id = `${plan}-${s.step}-${when}`;
          h.faults[s.store].schedule({ method: s.method, when, retryable: !permanent, times: permanent ? 1 : 2 });
          const r = await h.app.writer.ingest(doc(id));
          assert.equal(r.status, permanent ? 'compensated' : 'completed', JSON.stringify(r.reason));
          if (permanent) {
            assert.equal(r.reason?.code, 'STORE_INJECTED');
            await assertAbsent(h, id);
          } else {
            assert.equal((await getDocument(h.raw, id))?.id, id);
          }
          await assertClean(h);
        });
      }
    }

    describe('update', () => {
      for (const s of [
        ...STEPS[plan],
        { step: 'cleanup_previous', store: 'neo4j' as StoreName, method: 'removeVersion', beforePivot: false },
      ]) {
        for (const when of ['before', 'after'] as FaultTiming[]) {
          const permanent = s.beforePivot && !(s.step === 'postgres_commit' && when === 'after');
          test(`fault ${when} ${s.step} during an update ${permanent ? 'keeps v1' : 'ends on v2'}`, async () => {
            const id = `${plan}-upd-${s.step}-${when}`;
            const v1 = doc(id, 'Version one mentions Alpha Centauri.');
            assert.equal((await h.app.writer.ingest(v1)).status, 'completed');
            const before1 = await getDocument(h.raw, id);
            h.faults[s.store].schedule({ method: s.method, when, retryable: !permanent, times: permanent ? 1 : 2 });
            const r = await h.app.writer.ingest({ ...v1, text: 'Version two mentions Betelgeuse instead.' });
            assert.equal(r.action, 'updated');
            assert.equal(r.status, permanent ? 'compensated' : 'completed', JSON.stringify(r.reason));
            const now = await getDocument(h.raw, id);
            if (permanent) {
              // updated_at moves (the row records the attempt); the committed content does not.
              assert.deepEqual({ ...now, updatedAt: '' }, { ...before1, updatedAt: '' }, 'the committed version is untouched');
              const versions = await h.raw.neo4j.listVersions(id);
              assert.deepEqual(
                versions.map((v) => v.contentSha256),
                [before1?.contentSha256],
              );
            } else {
              assert.match(now?.text ?? '', /Betelgeuse/);
            }
            await assertClean(h);
          });
        }
      }
    });
  });
}

describe('delete', () => {
  let h: Harness;
  before(async () => {
    h = await harness(env, 'default');
  });
  after(async () => h.app.close());
  const steps = [
    { step: 'postgres_mark_deleting', store: 'postgres' as StoreName, method: 'markDeleting', beforePivot: true },
    { step: 'redis_delete', store: 'redis' as StoreName, method: 'remove', beforePivot: true },
    { step: 'neo4j_delete', store: 'neo4j' as StoreName, method: 'removeDocument', beforePivot: true },
    { step: 'qdrant_delete', store: 'qdrant' as StoreName, method: 'removeDocument', beforePivot: true },
    { step: 'postgres_delete', store: 'postgres' as StoreName, method: 'deleteDocument', beforePivot: true },
  ];
  for (const s of steps) {
    for (const when of ['before', 'after'] as FaultTiming[]) {
      const permanent = !(s.step === 'postgres_delete' && when === 'after');
      test(`fault ${when} ${s.step}: ${permanent ? 'the document stays fully present' : 'deleted after a retry'}`, async () => {
        const id = `del-${s.step}-${when}`;
        assert.equal((await h.app.writer.ingest(doc(id))).status, 'completed');
        const present = await getDocument(h.raw, id);
        h.faults[s.store].schedule({ method: s.method, when, retryable: !permanent, times: 1 });
        const r = await h.app.writer.delete(id);
        assert.equal(r.status, permanent ? 'compensated' : 'completed', JSON.stringify(r.reason));
        if (permanent) {
          const again = await getDocument(h.raw, id);
          assert.deepEqual({ ...again, updatedAt: '' }, { ...present, updatedAt: '' }, 'fully present');
          assert.equal(again?.cached, true, 'the cache entry was restored');
          assert.equal((await h.raw.qdrant.listVersions(id))[0]?.chunkCount, present?.chunks);
        } else {
          await assertAbsent(h, id);
          assert.equal(await h.raw.postgres.getDocument(id), undefined);
        }
        await assertClean(h);
      });
    }
  }
});
