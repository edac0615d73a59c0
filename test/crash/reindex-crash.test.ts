// issue 25: `apex-memory reindex` SIGKILLed at seeded random points three times (the plan of
// test/support/reindex-kill.ts: right after the start transition, at a pass's first progress line,
// some milliseconds into a pass, or once the log shows a reindex saga running), re-run each time
// with the same command;
// the last run finishes, and the result is what an uninterrupted run gives: every committed
// document's current version in the new collection with its chunk count and nothing else,
// --verify exits 0, --switch works, and verify on a process with the new settings reports 0 (no
// document left held, no orphan); the sagas the kills left unended were taken over and ended.
// Servers profile (saga log on PostgreSQL); the embedded twin is reindex-crash-embedded.test.ts.
// Replay with REINDEX_KILL_SEED=<seed> (the plan; the delays are wall time).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { compareTarget } from '../../src/ingest/reindex/compare.js';
import { seededRandom } from '../../src/saga/index.js';
import { serversEnv } from '../support/cli.js';
import { spawnCli } from '../support/cli-async.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { assertTakenOver, killPlan, killedRuns } from '../support/reindex-kill.js';

const N = 16;
const seed = Number(process.env.REINDEX_KILL_SEED ?? Math.floor(Math.random() * 1e9));
console.log(`reindex crash test: seed=${seed} (replay: REINDEX_KILL_SEED=${seed})`);
const random = seededRandom(seed);

let env: RealStores;
let app: App;
before(async () => {
  env = await realStores('reindexkill', 8, { sagaLogOnPostgres: true });
  app = await openApp({ config: env.config, embedder: new HashingEmbedder(256) });
});
after(async () => {
  await app.close();
  await env.close();
});

test('reindex SIGKILLed three times at seeded points, re-run each time, ends as an uninterrupted run', async () => {
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const r = await app.writer.ingest({
        id: `k-${i}`,
        title: `K ${i}`,
        text: `Kill point ${i}. ${'Some words about Vega and Lumen. '.repeat(6 + (i % 5))}`,
        metadata: {},
      });
      assert.equal(r.status, 'completed');
    }),
  );
  const cliEnv = serversEnv(env.config);
  const killed = await killedRuns(['reindex', '--dimension', '384', '-c', '2'], cliEnv, killPlan(random, 3), app.profile.log, 'run');
  const last = spawnCli(['reindex', '--dimension', '384', '--no-progress', '--json'], cliEnv);
  const done = await last.exited;
  assert.equal(done.code, 0, `${done.stdout}\n${done.stderr}`);
  const summary = JSON.parse(done.stdout) as { ok: boolean; unsettled: number; committed: number };
  assert.deepEqual([summary.ok, summary.unsettled, summary.committed], [true, 0, N]);

  const state = (await app.index!.record.read())!.state;
  assert.equal(state.next?.collection, 'apex_chunks_v2', 'the three runs and the last resumed one migration');
  const cmp = await compareTarget(app.stores, app.index!.targets.bind(state.next!).store, { dimension: 384, collection: 'apex_chunks_v2' });
  assert.deepEqual(cmp.problems, []);
  assert.equal(cmp.current, N);
  assert.equal((await spawnCli(['reindex', '--verify'], cliEnv).exited).code, 0);
  const sw = await spawnCli(['reindex', '--switch'], cliEnv).exited;
  assert.equal(sw.code, 0, sw.stderr);
  await assertTakenOver(app.profile.log, killed.left, killed.inFlightKilled);
  const app384 = await openApp({ config: env.config, embedder: new HashingEmbedder(384) });
  try {
    assert.deepEqual((await verifyStores(app384.stores)).violations, []);
  } finally {
    await app384.close();
  }
});
