// Issue 24, item 4: a real PostgreSQL failover during an ingest. Two private PostgreSQL 15
// clusters (test/support/pg-replica-pair.ts): a primary with a synchronous streaming standby.
// DATABASE_URL and SAGA_LOG_URL are one multi-host URL over both (target_session_attrs=read-write);
// Neo4j, Qdrant and Redis are the services' servers. The CLI ingests DOCS small documents; once a
// part of them is committed the primary is stopped the hard way (SIGQUIT: immediate, no
// checkpoint, connections cut) and, after a detection delay, the standby is promoted with
// `pg_ctl promote`. Expected: the calls that met the failover were retried (transient), not
// compensated; the ingest finishes with every document committed on the new primary, including
// every one the old primary had acknowledged before it died; every saga in the saga log (which
// failed over too) is completed; verify reports 0 violations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { json } from '../support/cli.js';
import { runCliAsync, spawnCli } from '../support/cli-async.js';
import { realStores } from '../support/real-stores.js';
import { startPgReplicaPair } from '../support/pg-replica-pair.js';
import { assertRodeOut, committedIds, serversEnv, smallDocuments } from '../support/failover-ingest.js';

/** Small documents: a few hundred, one chunk each, so the run is long enough to fail over in and cheap. */
const DOCS = 200;
/** Committed documents seen on the primary before it is stopped: well under way, far from the end. */
const KILL_AFTER = 30;
/** Between the primary's death and the promote: the time a failover manager takes to decide. */
const DETECTION_MS = 1_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test(
  'PostgreSQL synchronous standby promoted mid-ingest (documents and saga log on a multi-host URL): nothing compensated, nothing lost, verify 0',
  { timeout: 240_000 },
  async (t) => {
    const t0 = Date.now();
    const mark = (what: string): void => t.diagnostic(`${what} at ${Date.now() - t0} ms`);
    const pair = await startPgReplicaPair({ synchronous: true });
    const stores = await realStores('pg_promote', 12);
    try {
      mark('pair streaming (sync), stores ready');
      const env = serversEnv(stores.config, pair.multiHostUrl);
      const docs = smallDocuments(
        DOCS,
        'promote',
        (i) => `Alice Martin promoted the standby during ingest number ${i}. PostgreSQL kept every acknowledged commit.`,
      );
      const run = spawnCli(['ingest', docs.dir, '-c', '8'], env);
      let before = new Set<string>();
      for (;;) {
        before = await committedIds(pair.primary.url);
        if (before.size >= KILL_AFTER) break;
        assert.equal(run.child.exitCode, null, `the ingest ended before ${KILL_AFTER} documents were committed:\n${run.output()}`);
        await sleep(50);
      }
      // Read once more just before the stop: these commits were acknowledged by the primary.
      before = await committedIds(pair.primary.url);
      await pair.killPrimary();
      mark(`primary stopped with ${before.size}/${DOCS} committed`);
      assert.ok(before.size < DOCS, 'the whole ingest committed before the failover: the test proves nothing');
      await sleep(DETECTION_MS);
      await pair.promoteStandby();
      mark('standby promoted');
      assert.equal(run.child.exitCode, null, `the ingest ended before the promote:\n${run.output()}`);

      const done = await run.exited;
      mark('ingest done');
      assertRodeOut(t, run.output(), done.code, DOCS);

      const after = await committedIds(pair.standby.url);
      const lost = [...before].filter((id) => !after.has(id));
      assert.deepEqual(lost, [], 'commits the old primary acknowledged are missing on the promoted standby');
      assert.deepEqual([...after].sort(), docs.ids, 'every document is committed on the new primary');

      // The saga log failed over with the documents: every saga in it is completed. Read-only
      // commands, run side by side (each CLI start costs seconds on a loaded machine).
      const [open, completed, verify] = await Promise.all([
        runCliAsync(['sagas', 'list', '--status', 'running,compensating,compensated,stuck', '--json'], env),
        runCliAsync(['sagas', 'list', '--status', 'completed', '--json'], env),
        runCliAsync(['verify', '--json'], env),
      ]);
      assert.equal(json<{ total: number }>(open).total, 0, `sagas not completed in the failed-over saga log: ${open.stdout}`);
      assert.equal(json<{ total: number }>(completed).total, DOCS);
      assert.deepEqual(json<{ violations: unknown[] }>(verify).violations, [], verify.stdout);
      mark('verify done');
    } finally {
      await stores.close();
      await pair.close();
    }
  },
);
