// Several processes write the same 20 documents at once on the real servers (PostgreSQL log):
// ingests of ever new content and deletes, while the test SIGKILLs processes at random, and stops
// some with SIGSTOP past their lease (which is short: 500 ms) so that their sagas are taken over
// while they still have writes in flight. Then one process finishes whatever is left, and:
//  - verify reports 0 violations (repair is never run);
//  - each document holds the content of a completed ingest saga, the one PostgreSQL names, and no
//    completed saga on that document began after it ended; a document that is not there was
//    deleted by a completed delete saga after which no ingest of it completed.
// Replay with STRESS_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { seededRandom } from '../../src/saga/index.js';
import { checkLastWriterWins } from '../support/last-writer.js';
import { realStores } from '../support/real-stores.js';
import { allSagas } from '../support/log-pages.js';

const DURATION_MS = Number(process.env.STRESS_DURATION_MS ?? 30_000);
const PROCESSES = 3;
const LEASE_MS = 500;
const CHILD = join(import.meta.dirname, 'same-doc-child.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'same-document stress: 3 processes, 20 documents, SIGKILL and SIGSTOP at random: verify 0, last completed saga wins',
  { timeout: 180_000 },
  async () => {
    const seed = Number(process.env.STRESS_SEED ?? Math.floor(Math.random() * 1e9));
    console.log(`same-document-stress seed=${seed} (replay: STRESS_SEED=${seed})`);
    const random = seededRandom(seed);
    const env = await realStores('same_doc_stress', 12, { sagaLogOnPostgres: true });
    const deadline = Date.now() + DURATION_MS;
    const children = new Set<ChildProcess>();
    let spawned = 0;
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        env: {
          ...process.env,
          STRESS_CONFIG: JSON.stringify(env.config),
          STRESS_SEED: String(seed + spawned++),
          STRESS_DEADLINE: String(deadline),
          STRESS_LEASE_MS: String(LEASE_MS),
        },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    };
    let kills = 0;
    let stops = 0;
    try {
      for (let i = 0; i < PROCESSES; i++) start();
      await sleep(2_000); // let them open the stores and get going
      while (Date.now() < deadline - 1_000) {
        await sleep(700 + Math.floor(random() * 1_300));
        const victims = [...children];
        const victim = victims[Math.floor(random() * victims.length)];
        if (!victim) continue;
        // At most one SIGSTOP per two SIGKILLs: the run must reach its kill count whatever the seed
        // (a seed that drew SIGSTOP 6 times in 9 left only 3 kills in CI).
        if (random() < 0.3 && stops * 2 < kills) {
          victim.kill('SIGSTOP'); // past its lease: its sagas are taken over while it has writes in flight
          await sleep(LEASE_MS * 2 + Math.floor(random() * 500));
          victim.kill('SIGCONT');
          stops++;
        } else {
          victim.kill('SIGKILL');
          kills++;
          start();
        }
      }
      // Children stop at the deadline; one whose last write still waits (a document held by a
      // saga whose owner was killed, until the lease ends and a sweep frees it) gets 30 s, then the
      // SIGKILL it would have got a moment earlier: the checks below hold for any crash.
      const exited = Promise.all([...children].map((c) => new Promise((r) => c.on('exit', r))));
      const late = await Promise.race([exited.then(() => false), sleep(Math.max(0, deadline - Date.now()) + 30_000).then(() => true)]);
      if (late) {
        console.log(`${children.size} process(es) still writing 30 s after the deadline: SIGKILLed`);
        for (const c of children) c.kill('SIGKILL');
        await exited;
      }
      console.log(`chaos: ${kills} SIGKILLs, ${stops} SIGSTOPs, ${spawned} processes`);
      assert.ok(kills >= 5, `only ${kills} kills`);

      // One process finishes what the dead ones left, then waits for its sweeps.
      const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: LEASE_MS });
      try {
        for (let round = 0; round < 50; round++) {
          const claimed = await app.engine.recover({ limit: 256 });
          await app.engine.idle();
          if (claimed === 0 && (await app.profile.log.count({ status: 'running' })) === 0) break;
          if (claimed === 0) await sleep(LEASE_MS);
        }
        for (let i = 0; i < 100 && app.sweeper.pending > 0; i++) await sleep(200);
        const stuck = await allSagas(app.profile.log, { status: 'stuck' });
        assert.deepEqual(
          stuck.map((s) => `${s.sagaId} ${s.reason?.code ?? ''}`),
          [],
          'no saga is stuck',
        );
        const report = await verifyStores(app.stores);
        assert.deepEqual(report.violations, [], `seed ${seed}`);
        await checkLastWriterWins(app, `seed ${seed}`, 20);
      } finally {
        await app.close();
      }
    } finally {
      for (const c of children) c.kill('SIGKILL');
      await env.close();
    }
  },
);
