// The PGlite stand-in against the relational conformance suite (in memory: an in-process engine
// has no connection to cut, so the mid-call drop case is covered by the PostgreSQL run only),
// plus persistence of its data directory across close and reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import assert from 'node:assert/strict';
import { openPgliteRelational } from '../../src/stores/pglite/relational-store.js';
import { ctxFor, makeVersion } from '../support/conformance/fixtures.js';
import { relationalConformance } from '../support/store-conformance.js';

relationalConformance({ label: 'pglite', open: () => openPgliteRelational() });

const dir = mkdtempSync(join(tmpdir(), 'apex-pglite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

void it('a PGlite data directory keeps committed documents across close and reopen', async () => {
  const v = makeVersion({ docId: 'persisted', body: 'kept on disk', chunkCount: 2 });
  const first = await openPgliteRelational(join(dir, 'postgres'));
  await first.putPending(v, ctxFor('s'));
  await first.commit(v.docId, v.contentSha256, ctxFor('s'));
  assert.match((await first.health()).detail, /^pglite .* at file /);
  await first.close();
  const second = await openPgliteRelational(join(dir, 'postgres'));
  try {
    assert.equal((await second.getDocument(v.docId))?.contentSha256, v.contentSha256);
    assert.equal((await second.getChunks(v.docId, v.contentSha256)).length, 2);
  } finally {
    await second.close();
  }
});
