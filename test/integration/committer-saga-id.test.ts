// documents.saga_id names the saga that committed the row (issue 22), on real PostgreSQL: an update
// that compensates and a delete that compensates (its mark repeated, as a retry does) leave the
// committer's id on the row, and so in the API's `sagaId`. Before, the update's putPending and the
// delete's mark stamped their own ids on the committed row and kept them after compensating.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { versionOf } from '../../src/ingest/sagas/version.js';
import { realStores, type RealStores } from '../support/real-stores.js';

let env: RealStores;
let app: App;

before(async () => {
  env = await realStores('committer', 2);
  app = await openApp({ config: env.config, embedder: new HashingEmbedder() });
});
after(async () => {
  await app.close();
  await env.close();
});

test('a compensated update and a compensated delete leave the committer on the row', async () => {
  const first = await app.writer.ingest({ id: 'doc', title: 'Doc', text: 'The first version.', metadata: {} });
  assert.equal(first.status, 'completed');
  const pg = app.stores.postgres;
  const committer = (await pg.getDocument('doc'))?.sagaId;
  assert.ok(committer);

  const update = { sagaId: 'update-that-compensates', fencingToken: 1 };
  const v2 = await versionOf({ id: 'doc', title: 'Doc', text: 'A second version that never commits.', metadata: {} }, 'e'.repeat(64));
  await pg.putPending(v2, update);
  assert.equal((await pg.getDocument('doc'))?.sagaId, committer, 'an update in flight is not the committer');
  await pg.discardPending('doc', v2.contentSha256, update, { release: true });
  assert.equal((await pg.getDocument('doc'))?.sagaId, committer);

  const del = { sagaId: 'delete-that-compensates', fencingToken: 1 };
  await pg.markDeleting('doc', del);
  assert.equal((await pg.getDocument('doc'))?.sagaId, del.sagaId, 'a row being deleted names its delete');
  await pg.markDeleting('doc', del); // a retried mark
  await pg.unmarkDeleting('doc', del);
  const row = await pg.getDocument('doc');
  assert.equal(row?.ingestionStatus, 'committed');
  assert.equal(row?.sagaId, committer);
});
