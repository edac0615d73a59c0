// APEX_NAMESPACE on the real servers (issue 24 item 5): three deployments share one PostgreSQL
// database, one Neo4j, one Qdrant and one Redis database: `ns_a`, `ns_b` and the deployment without
// a namespace (today's names). They ingest the same document ids with different content; each
// verifies 0 and reads its own content; a delete in one leaves the others intact, and the erasure
// receipt and the fence sweep of one never see the others. The saga logs are on PostgreSQL too
// (one schema per namespace). Last, `ns_a` again through PgBouncer in transaction mode, where the
// schema is selected per transaction (SET LOCAL search_path), not at connection start-up.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { checkErasure } from '../../src/ingest/erasure.js';
import { sweepFences } from '../../src/ingest/fence-sweep.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { ProfileConfig } from '../../src/config/profile.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import neo4j from 'neo4j-driver';
import { requireServiceVar, testServices } from '../support/services.js';

const IDS = ['shared-1', 'shared-2'];
const DEPLOYMENTS = ['ns_a', 'ns_b', ''] as const;
type Deployment = (typeof DEPLOYMENTS)[number];

let env: RealStores;
const apps = new Map<Deployment, App>();

function configOf(ns: Deployment, base: ProfileConfig = env.config): ProfileConfig {
  return { ...base, ...(ns ? { namespace: ns } : {}) };
}

function app(ns: Deployment): App {
  const a = apps.get(ns);
  if (!a) throw new Error(`no app for ${JSON.stringify(ns)}`);
  return a;
}

const titleOf = (ns: Deployment, id: string): string => `${ns || 'default'} title of ${id}`;

before(async () => {
  const t0 = Date.now();
  env = await realStores('namespaces', 6, { sagaLogOnPostgres: true });
  for (const ns of DEPLOYMENTS) apps.set(ns, await openApp({ config: configOf(ns), embedder: new HashingEmbedder() }));
  const t1 = Date.now();
  for (const ns of DEPLOYMENTS) {
    for (const id of IDS) {
      const text = `Deployment ${ns || 'Default'} writes ${id}. Its entity Zeta${ns.replace('_', '')}${id.slice(-1)} belongs to it alone.`;
      const r = await app(ns).writer.ingest({ id, title: titleOf(ns, id), text, metadata: { ns } });
      assert.equal(r.status, 'completed', `${ns} ${id}: ${JSON.stringify(r.reason)}`);
    }
  }
  console.log(`setup: stores + 3 opens ${t1 - t0} ms, ${IDS.length * 3} ingests ${Date.now() - t1} ms`);
});

after(async () => {
  for (const a of apps.values()) await a.close();
  await env?.close();
  await dropNamespaceRules(['ns_a', 'ns_b']);
});

/** realStores empties Neo4j's nodes, not its schema: the namespaces' rules go too (other tests list rules). */
async function dropNamespaceRules(namespaces: string[]): Promise<void> {
  const driver = neo4j.driver(testServices().neo4jUrl);
  const session = driver.session();
  try {
    for (const ns of namespaces) {
      const p = { p: `apex_${ns}_` };
      const constraints = await session.run('SHOW CONSTRAINTS YIELD name WHERE name STARTS WITH $p RETURN name', p);
      for (const r of constraints.records) await session.run(`DROP CONSTRAINT ${String(r.get('name'))} IF EXISTS`);
      const indexes = await session.run(
        'SHOW INDEXES YIELD name, owningConstraint WHERE name STARTS WITH $p AND owningConstraint IS NULL RETURN name',
        p,
      );
      for (const r of indexes.records) await session.run(`DROP INDEX ${String(r.get('name'))} IF EXISTS`);
    }
  } finally {
    await session.close();
    await driver.close();
  }
}

test('three deployments ingest the same ids: each verifies 0 and reads its own content in every store', async () => {
  const shas = new Map<Deployment, string[]>();
  for (const ns of DEPLOYMENTS) {
    const { stores } = app(ns);
    const report = await verifyStores(stores);
    assert.deepEqual(report.violations, [], `${ns || 'default'}: verify`);
    assert.equal(report.documents, IDS.length, `${ns || 'default'}: sees only its own documents`);
    assert.deepEqual(await stores.redis.listDocIds(null, 100), IDS);
    assert.deepEqual(await stores.neo4j.listDocIds(null, 100), IDS);
    assert.deepEqual(await stores.qdrant.listDocIds(null, 100), IDS);
    const mine: string[] = [];
    for (const id of IDS) {
      const doc = await stores.postgres.getDocument(id);
      assert.equal(doc?.title, titleOf(ns, id));
      assert.equal((await stores.redis.get(id))?.title, titleOf(ns, id));
      const sha = doc?.contentSha256 ?? '';
      mine.push(sha);
      assert.deepEqual(
        (await stores.neo4j.listVersions(id)).map((v) => v.contentSha256),
        [sha],
        `${ns} ${id}: neo4j versions`,
      );
      assert.deepEqual(
        (await stores.qdrant.listVersions(id)).map((v) => v.contentSha256),
        [sha],
        `${ns} ${id}: qdrant versions`,
      );
      const entities = await stores.neo4j.entities(id, sha);
      assert.ok(
        entities.some((e) => e.startsWith('Zeta')),
        `${ns} ${id}: its entity (${entities.join(', ')})`,
      );
      assert.ok(entities.every((e) => !e.startsWith('Zeta') || e === `Zeta${ns.replace('_', '')}${id.slice(-1)}`));
    }
    shas.set(ns, mine);
  }
  // Different content per deployment: three different versions of each id.
  for (const [i] of IDS.entries()) assert.equal(new Set(DEPLOYMENTS.map((ns) => shas.get(ns)?.[i])).size, 3);
});

test('a delete in one namespace leaves the others intact; its erasure receipt and fence sweep stay inside it', async () => {
  const gone = IDS[0] ?? 'shared-1';
  const r = await app('ns_a').writer.delete(gone);
  assert.equal(r.status, 'completed', JSON.stringify(r.reason));
  assert.equal(await app('ns_a').stores.postgres.getDocument(gone), undefined);
  assert.equal((await checkErasure(app('ns_a').stores, app('ns_a').engine.log, gone)).erased, true);
  for (const ns of ['ns_b', ''] as const) {
    const { stores, engine } = app(ns);
    assert.equal((await stores.postgres.getDocument(gone))?.title, titleOf(ns, gone), `${ns || 'default'} keeps ${gone}`);
    assert.equal((await stores.redis.get(gone))?.title, titleOf(ns, gone));
    assert.equal((await stores.neo4j.listVersions(gone)).length, 1);
    assert.equal((await stores.qdrant.listVersions(gone)).length, 1);
    // verify --erased in another deployment: its own copy is there, and it knows no delete of it.
    const receipt = await checkErasure(stores, engine.log, gone);
    assert.equal(receipt.erased, false);
    assert.equal(receipt.deleteSaga ?? null, null, `${ns || 'default'} must not see ns_a's delete saga`);
    assert.deepEqual((await verifyStores(stores)).violations, []);
  }
  assert.deepEqual((await verifyStores(app('ns_a').stores)).violations, []);

  // The fence sweep with no retention (every ended saga's fence goes): ns_a's log knows only ns_a's
  // sagas, so a sweep that saw another deployment's fences would remove them ("unknown to the log").
  const before = { b: await fenceCount('ns_b'), d: await fenceCount('') };
  assert.ok(before.b > 0 && before.d > 0);
  const swept = await sweepFences(app('ns_a').stores.neo4j, app('ns_a').engine.log, { leaseMs: 1, leases: 0 });
  assert.ok(swept.scanned > 0 && swept.scanned <= IDS.length * 2, `ns_a's sweep scanned ${swept.scanned} fences`);
  assert.deepEqual({ b: await fenceCount('ns_b'), d: await fenceCount('') }, before);
  for (const ns of DEPLOYMENTS) assert.deepEqual((await verifyStores(app(ns).stores)).violations, [], `${ns || 'default'} after sweep`);
});

test('behind PgBouncer (transaction mode) the namespace reaches the same schema: ns_a reads, writes and verifies 0', async () => {
  const bouncer = new URL(requireServiceVar('APEX_TEST_PGBOUNCER_URL'));
  bouncer.pathname = new URL(env.databaseUrl).pathname;
  // The saga log through the pooler too (its SQL names the schema), LISTEN and migrations direct.
  const pooled: ProfileConfig = {
    ...configOf('ns_a'),
    databaseUrl: bouncer.toString(),
    sagaLogUrl: bouncer.toString(),
    sagaLogDirectUrl: env.databaseUrl,
    pgPooler: 'transaction',
  };
  const viaPooler = await openApp({ config: pooled, embedder: new HashingEmbedder() });
  try {
    assert.equal((await viaPooler.stores.postgres.getDocument('shared-2'))?.title, titleOf('ns_a', 'shared-2'));
    assert.equal(await viaPooler.stores.postgres.getDocument('shared-1'), undefined, 'deleted in ns_a, present elsewhere');
    const deletes = await viaPooler.engine.log.list({}, { limit: 100 });
    assert.ok(deletes.sagas.length >= IDS.length + 1, "ns_a's saga log, read through the pooler");
    const r = await viaPooler.writer.ingest({ id: 'pooled-1', title: 'via the pooler', text: 'Written through PgBouncer.', metadata: {} });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    assert.equal((await app('ns_a').stores.postgres.getDocument('pooled-1'))?.title, 'via the pooler');
    assert.equal(await app('ns_b').stores.postgres.getDocument('pooled-1'), undefined);
    assert.equal(await app('').stores.postgres.getDocument('pooled-1'), undefined);
    const sagaId = r.sagaId ?? assert.fail('the ingest names its saga');
    assert.ok((await app('ns_a').engine.log.load(sagaId)) !== undefined, "the pooled ingest's saga is in ns_a's log");
    assert.equal(await app('ns_b').engine.log.load(sagaId), undefined);
    assert.equal(await app('').engine.log.load(sagaId), undefined);
    assert.deepEqual((await verifyStores(viaPooler.stores)).violations, []);
    // `vacuum`: VACUUM cannot run inside the transaction that sets search_path: it names the schema.
    const reclaim = viaPooler.stores.postgres.reclaim?.bind(viaPooler.stores.postgres);
    assert.ok(reclaim, 'the PostgreSQL store reclaims');
    assert.match(await reclaim({ full: false }), /^VACUUM apex_ns_a\.documents, apex_ns_a\.document_versions/);
  } finally {
    await viaPooler.close();
  }
});

async function fenceCount(ns: Deployment): Promise<number> {
  const scan = app(ns).stores.neo4j.scanFences?.bind(app(ns).stores.neo4j);
  assert.ok(scan, 'the Neo4j adapter has fences');
  return (await scan(null, 1_000)).length;
}
