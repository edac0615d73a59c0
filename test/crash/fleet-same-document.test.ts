// The fleet run of the same-document report: 3 workers on a PostgreSQL saga log with 2 s leases;
// over 10 rounds the test queues new content for 30 documents and deletes some, while workers are
// SIGKILLed (and replaced) or SIGSTOPped for 3 s (past their lease, so their sagas are taken over
// while their writes are in flight). Once the workers are idle: verify reports 0 (no repair), and
// each document holds what the last completed saga on it left. Replay with APEX_FLEET_SEED=<seed>.
//
// A second, shorter run (3 rounds of 15 documents: SIGKILL, SIGSTOP, SIGKILL, so both happen) puts the
// workers' saga log and document store behind PgBouncer in transaction mode; the test's own
// submissions and checks stay on the direct URL (they are not under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp } from '../../src/app.js';
import { submitIngest } from '../../src/fleet/submit.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { seededRandom } from '../../src/saga/index.js';
import { realStores, throughPgBouncer } from '../support/real-stores.js';
import { checkLastWriterWins } from '../support/last-writer.js';
import { makeDoc, sigkill, sleep, spawnWorker, type WorkerChild } from '../fleet/harness.js';
import { allSagas } from '../support/log-pages.js';

const LEASE_MS = 2_000;
const RUNS = [
  { rounds: 10, docs: 30, minCompleted: 50, bouncer: false, timeoutMs: 240_000 },
  // 45 writes, about a fifth of them deletes: at least 25 completed ingests to compare.
  { rounds: 3, docs: 15, minCompleted: 25, bouncer: true, timeoutMs: 180_000 },
];

for (const { rounds: ROUNDS, docs: DOCS, minCompleted: MIN_COMPLETED, bouncer, timeoutMs } of RUNS) {
  test(
    `fleet, same documents: 3 workers, 2 s leases, SIGKILL and SIGSTOP, changing content and deletes: verify 0 once idle${bouncer ? ' (workers through PgBouncer, transaction mode)' : ''}`,
    { timeout: timeoutMs },
    async () => {
      const seed = Number(process.env.APEX_FLEET_SEED ?? Math.floor(Math.random() * 1e9));
      console.log(`fleet-same-document${bouncer ? ' (PgBouncer)' : ''} seed=${seed} (replay: APEX_FLEET_SEED=${seed})`);
      const random = seededRandom(seed);
      const env = await realStores('fleet_same_doc', 15, { sagaLogOnPostgres: true });
      const workerConfig = bouncer ? throughPgBouncer(env.config, env.databaseUrl) : env.config;
      const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: LEASE_MS });
      const workers = new Set<WorkerChild>();
      let started = 0;
      const startWorker = (): WorkerChild => {
        const w = spawnWorker({
          APEX_FLEET_CONFIG: JSON.stringify(workerConfig),
          APEX_FLEET_LEASE_MS: String(LEASE_MS),
          APEX_FLEET_CONCURRENCY: '8',
        });
        started++;
        workers.add(w);
        void w.exited.then(() => workers.delete(w));
        return w;
      };
      let kills = 0;
      let stops = 0;
      let queued = 0;
      try {
        for (let i = 0; i < 3; i++) startWorker();
        await Promise.all([...workers].map((w) => w.owner));
        for (let round = 0; round < ROUNDS; round++) {
          for (let i = 0; i < DOCS; i++) {
            if (random() < 0.2) {
              const del = await app.writer.prepareDelete(makeDoc('same', i).id);
              if (del) await app.engine.submit(del.def, del.input);
            } else {
              const base = makeDoc('same', i);
              // Stages the content, then queues (content by reference, docs/erasure.md).
              await submitIngest(app, { ...base, text: `${base.text} Round ${round}, variant ${Math.floor(random() * 1e6)}.` });
            }
            queued++;
          }
          const victims = [...workers];
          const victim = victims[Math.floor(random() * victims.length)];
          // The short run alternates (a kill first) so that both happen; the random draw is made
          // either way so a seed replays the same documents.
          const stop = random() < 0.5;
          if (victim && (bouncer ? round % 2 === 1 : stop)) {
            victim.proc.kill('SIGSTOP');
            await sleep(3_000);
            victim.proc.kill('SIGCONT');
            stops++;
          } else if (victim) {
            sigkill(victim);
            kills++;
            await victim.exited;
            await startWorker().owner;
          }
          await sleep(500 + Math.floor(random() * 1_000));
        }
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline) {
          const open =
            (await app.profile.log.count({ status: 'pending' })) +
            (await app.profile.log.count({ status: 'running' })) +
            (await app.profile.log.count({ status: 'compensating' }));
          if (open === 0) break;
          await sleep(500);
        }
        console.log(`queued ${queued} writes; ${kills} SIGKILLs, ${stops} SIGSTOPs, ${started} workers`);
        if (bouncer) assert.ok(kills >= 2 && stops >= 1, 'the PgBouncer run killed and stopped workers');
        await sleep(3_000); // the workers' sweeps after takeovers (1 s delay) run before they stop
        for (const w of workers) w.proc.kill('SIGTERM');
        await Promise.all([...workers].map((w) => w.exited));
        const stuck = await allSagas(app.profile.log, { status: 'stuck' });
        assert.deepEqual(
          stuck.map((s) => `${s.sagaId} ${s.reason?.code ?? ''} ${s.reason?.message ?? ''}`),
          [],
        );
        assert.equal(
          (await app.profile.log.count({ status: 'running' })) + (await app.profile.log.count({ status: 'pending' })),
          0,
          'every saga ended',
        );
        const report = await verifyStores(app.stores);
        assert.deepEqual(report.violations, [], `seed ${seed}`);
        await checkLastWriterWins(app, `seed ${seed}`, MIN_COMPLETED);
      } finally {
        for (const w of workers) w.proc.kill('SIGKILL');
        await app.close();
        await env.close();
      }
    },
  );
}
