// repair never races a saga (embedded profile, in process): each document is repaired under
// RelationalStore.whileFree.
//  - a document held by a saga is left alone (naming the holder) and repaired once it is free;
//  - a saga that commits between repair's read and its lock: repair sees the changed row and
//    leaves the document alone. Here the saga commits exactly the version verify had seen as
//    stale in Qdrant; repairing from the old reading would delete the now committed version's
//    points (the race of issue 13 the per-document lock closes).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { repairStores } from '../../src/ingest/repair.js';
import { versionOf } from '../../src/ingest/sagas/version.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { RelationalStore, StoreSet } from '../../src/stores/types.js';

let dir: string;
let app: App;
const doc = (text: string) => ({ id: 'race', title: 'Race', text, metadata: {} });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'apex-repair-race-'));
  app = await openApp({ dataDir: dir, embedder: new HashingEmbedder(), env: {} });
  assert.equal((await app.writer.ingest(doc('Version one of the race document about Orion.'))).status, 'completed');
});
after(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a document held by a saga is left alone, then repaired once the saga gave it back', async () => {
  const v2 = await versionOf(doc('Some stalled owner wrote this.'), 'a'.repeat(64), { embedder: app.embedder });
  await app.stores.qdrant.writeVersion(v2, { sagaId: 'stalled', fencingToken: 1 });
  const holder = { sagaId: 'holding-saga', fencingToken: 1 };
  await app.stores.postgres.acquire('race', holder);
  const held = await repairStores(app.stores, app.embedder, { dryRun: false });
  const mine = held.actions.filter((a) => a.violation.kind === 'stale_version');
  assert.equal(mine.length, 1);
  assert.equal(mine[0]?.done, false);
  assert.match(mine[0]?.action ?? '', /holding-saga holds the document/);
  assert.equal((await app.stores.qdrant.listVersions('race')).length, 2, 'nothing removed while held');
  await app.stores.postgres.release('race', holder);
  const fixed = await repairStores(app.stores, app.embedder, { dryRun: false });
  assert.deepEqual(fixed.after?.violations, []);
  assert.equal((await app.stores.qdrant.listVersions('race')).length, 1);
});

test("a saga committing between repair's read and its lock: the document is left alone, nothing it committed is removed", async () => {
  const next = doc('Version three, written by a saga that races the repair.');
  const prepared = await app.writer.prepareIngest(next);
  assert.ok(prepared);
  const sha = (prepared.input as { sha: string }).sha;
  // Its Qdrant write lands first: verify sees a stale version in Qdrant (and in no other store).
  const v3 = await versionOf(next, sha, { embedder: app.embedder });
  await app.stores.qdrant.writeVersion(v3, { sagaId: 'racer', fencingToken: 1 });
  // The saga then runs to its end just before repair takes the document.
  let raced = false;
  const racing: RelationalStore = new Proxy(app.stores.postgres, {
    get(target, prop, receiver) {
      if (prop !== 'whileFree') return Reflect.get(target, prop, receiver) as unknown;
      return async (...args: Parameters<RelationalStore['whileFree']>) => {
        if (!raced) {
          raced = true;
          await app.writer.stageContent('racer-saga', next); // content by reference: staged before the saga begins
          assert.equal((await app.engine.execute(prepared.def, prepared.input, { sagaId: 'racer-saga' })).status, 'completed');
        }
        return target.whileFree(...args);
      };
    },
  });
  const stores: StoreSet = { ...app.stores, postgres: racing };
  const report = await repairStores(stores, app.embedder, { dryRun: false });
  assert.ok(raced);
  const stale = report.actions.filter((a) => a.violation.kind === 'stale_version' && a.violation.store === 'qdrant');
  assert.equal(stale.length, 1, JSON.stringify(report.actions));
  assert.equal(stale[0]?.done, false);
  assert.match(stale[0]?.action ?? '', /changed the document meanwhile/);
  assert.equal((await app.stores.postgres.getDocument('race'))?.contentSha256, sha);
  assert.deepEqual(
    (await app.stores.qdrant.listVersions('race')).map((v) => v.contentSha256),
    [sha],
    'the committed version kept its points',
  );
  assert.deepEqual((await verifyStores(app.stores)).violations, []);
});
