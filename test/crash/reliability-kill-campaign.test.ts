// Random kill campaign on the real servers (PostgreSQL saga log, 1 s leases): at least 200 SIGKILLs
// (x RELIABILITY_SCALE) at random moments, across three lanes running at once:
//  - writers: 4 at a time, each updating and deleting 20 shared documents from 4 lanes
//    (reliability-kill-child.ts), SIGKILLed 0.3-2.5 s after spawn (in start-up or while writing)
//    and replaced;
//  - the CLI: `apex-memory ingest` of one JSONL file (30 documents, 5 min leases) SIGKILLed once it
//    reports progress, then the same command again at once: it must finish with nothing
//    compensated, without waiting out the dead run's leases (under 120 s);
//  - a fleet of 3 `worker` processes fed ingests and deletes through the log, one SIGKILLed every
//    0.2-1.5 s (started or not) and replaced at once.
// Then one process finishes what the dead left (forward), and: no saga is stuck, verify reports 0,
// and each document holds what the last completed saga on it left (test/support/last-writer.ts).
// Figures go to test-artifacts/reliability/kill-campaign.json. Replay with KILL_SEED=<seed>.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../../src/app.js';
import { submitIngest } from '../../src/fleet/submit.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { seededRandom } from '../../src/saga/index.js';
import { serversEnv } from '../support/cli.js';
import { runCliAsync, spawnCli } from '../support/cli-async.js';
import { checkLastWriterWins } from '../support/last-writer.js';
import { realStores } from '../support/real-stores.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';
import { makeDoc, sleep, spawnWorker, type WorkerChild } from '../fleet/harness.js';
import { allSagas } from '../support/log-pages.js';

const SCALE = reliabilityScale();
const TARGET_KILLS = Math.round(200 * SCALE);
const MAX_MS = Math.round(170_000 * SCALE);
const LEASE_MS = 1_000;
const CHILD = join(import.meta.dirname, 'reliability-kill-child.ts');

test(
  `kill campaign: ${TARGET_KILLS}+ SIGKILLs across writers, CLI re-runs and a 3-worker fleet: verify 0, last writer wins`,
  { timeout: MAX_MS + 180_000 },
  async () => {
    const seed = Number(process.env.KILL_SEED ?? Math.floor(Math.random() * 1e9));
    console.log(`kill-campaign seed=${seed} (replay: KILL_SEED=${seed})`);
    const random = seededRandom(seed);
    const delay = (): number => 200 + Math.floor(random() * 1_300);
    const env = await realStores('kill_campaign', 10, { sagaLogOnPostgres: true });
    const app = await openApp({ config: env.config, embedder: new HashingEmbedder(), leaseMs: LEASE_MS });
    const kills = { writers: 0, cli: 0, fleet: 0 };
    const total = (): number => kills.writers + kills.cli + kills.fleet;
    const t0 = Date.now();
    const going = (): boolean => Date.now() - t0 < MAX_MS && total() < TARGET_KILLS;
    const live = new Set<ChildProcess>();
    const rerunMs: number[] = [];
    let queued = 0;
    let spawned = 0;

    // Killed at a random moment 0.3-2.5 s after spawn: during start-up (opening the stores, creating
    // the schema) or while writing; both are counted, and how many were after READY.
    let afterReady = 0;
    const writerLane = async (): Promise<void> => {
      while (going()) {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
          env: {
            ...process.env,
            KILL_CONFIG: JSON.stringify(env.config),
            KILL_SEED: String(seed + ++spawned),
            KILL_LEASE_MS: String(LEASE_MS),
          },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        live.add(child);
        let ready = false;
        child.stdout?.on('data', (d: Buffer) => {
          if (d.toString().includes('READY')) ready = true;
        });
        const exited = new Promise((r) => child.on('exit', r));
        await Promise.race([sleep(300 + Math.floor(random() * 2_200)), exited]);
        assert.equal(child.exitCode, null, 'a writer exited on its own');
        child.kill('SIGKILL');
        kills.writers++;
        if (ready) afterReady++;
        await exited;
        live.delete(child);
      }
    };

    const dataDir = mkdtempSync(join(tmpdir(), 'apex-kill-cli-'));
    const input = join(dataDir, 'docs.jsonl');
    writeFileSync(
      input,
      Array.from({ length: 30 }, (_, i) => JSON.stringify({ ...makeDoc('cli', i), text: `${makeDoc('cli', i).text} Seed ${seed}.` })).join(
        '\n',
      ) + '\n',
    );
    // Leases of 5 min: a re-run that waited one out would take longer than the 120 s it is allowed.
    const cliEnv = { ...serversEnv(env.config), APEX_DATA_DIR: dataDir, APEX_LEASE_MS: '300000' };
    const cliLane = async (): Promise<void> => {
      while (going()) {
        const run = spawnCli(['ingest', input, '-c', '4'], cliEnv);
        live.add(run.child);
        const progressed = await run.waitFor(/ingest: [1-9]\d*\/\d+/, 60_000).then(
          () => true,
          () => false,
        );
        if (progressed) await sleep(Math.floor(random() * 300));
        const killed = run.child.kill('SIGKILL') && run.child.exitCode === null;
        await run.exited;
        live.delete(run.child);
        if (killed) kills.cli++;
        const started = Date.now();
        const rerun = await runCliAsync(['ingest', input, '-c', '4'], cliEnv);
        rerunMs.push(Date.now() - started);
        assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
        assert.match(rerun.stdout, /compensated\s+0\n/, rerun.stdout);
      }
    };

    const workers = new Set<WorkerChild>();
    const fleetLane = async (): Promise<void> => {
      const start = (): WorkerChild => {
        const w = spawnWorker({
          APEX_FLEET_CONFIG: JSON.stringify(env.config),
          APEX_FLEET_LEASE_MS: String(LEASE_MS),
          APEX_FLEET_CONCURRENCY: '8',
        });
        workers.add(w);
        void w.owner.catch(() => undefined); // killed before it started: that is the point
        void w.exited.then(() => workers.delete(w));
        return w;
      };
      for (let i = 0; i < 3; i++) start();
      await Promise.all([...workers].map((w) => w.owner));
      const feeding = (async () => {
        for (let round = 0; going(); round++) {
          for (let i = 0; i < 10; i++) {
            const base = makeDoc('fleet', Math.floor(random() * 20));
            if (random() < 0.2) {
              const prepared = await app.writer.prepareDelete(base.id);
              if (prepared) {
                await app.engine.submit(prepared.def, prepared.input);
                queued++;
              }
            } else if ((await submitIngest(app, { ...base, text: `${base.text} Round ${round}.${i}.` })).queued) {
              queued++; // staged, then queued (content by reference, docs/erasure.md)
            }
          }
          await sleep(500);
        }
      })();
      // A worker is killed every 0.2-1.5 s, started or not; a replacement starts at once.
      while (going()) {
        await sleep(delay());
        const victims = [...workers];
        const victim = victims[Math.floor(random() * victims.length)];
        if (!victim) break;
        victim.proc.kill('SIGKILL');
        kills.fleet++;
        await victim.exited;
        start();
      }
      await feeding;
    };

    try {
      await Promise.all([writerLane(), writerLane(), writerLane(), writerLane(), cliLane(), fleetLane()]);
      const elapsedMs = Date.now() - t0;
      console.log(
        `kills ${JSON.stringify(kills)} (${afterReady} writers after READY) in ${elapsedMs} ms; ${queued} fleet sagas queued; CLI re-runs took ${rerunMs.join(', ')} ms`,
      );
      for (const c of live) c.kill('SIGKILL');
      // Workers drain the queue, then stop gracefully.
      const drainBy = Date.now() + 120_000;
      while (Date.now() < drainBy && (await app.profile.log.count({ status: 'pending' })) > 0) await sleep(500);
      for (const w of workers) w.proc.kill('SIGTERM');
      await Promise.all([...workers].map((w) => w.exited));

      for (let round = 0; round < 100; round++) {
        const claimed = await app.engine.recover({ limit: 256, includePending: true });
        await app.engine.idle();
        const open =
          (await app.profile.log.count({ status: 'running' })) +
          (await app.profile.log.count({ status: 'pending' })) +
          (await app.profile.log.count({ status: 'compensating' }));
        if (claimed === 0 && open === 0) break;
        if (claimed === 0) await sleep(LEASE_MS);
      }
      for (let i = 0; i < 100 && app.sweeper.pending > 0; i++) await sleep(200);
      const stuck = await allSagas(app.profile.log, { status: 'stuck' });
      assert.deepEqual(
        stuck.map((s) => `${s.sagaId} ${s.reason?.code ?? ''} ${s.reason?.message ?? ''}`),
        [],
        'no saga is stuck',
      );
      const report = await verifyStores(app.stores);
      assert.deepEqual(report.violations, [], `seed ${seed}`);
      await checkLastWriterWins(app, `seed ${seed}`, 50);
      const completed = await app.profile.log.count({ status: 'completed' });
      const compensated = await app.profile.log.count({ status: 'compensated' });
      assert.ok(total() >= TARGET_KILLS, `only ${total()} SIGKILLs in ${elapsedMs} ms`);
      assert.ok(Math.max(...rerunMs) < 120_000, 'a re-run waited out a lease');
      writeResult('kill-campaign', {
        seed,
        kills,
        writerKillsAfterReady: afterReady,
        totalKills: total(),
        elapsedMs,
        fleetSagasQueued: queued,
        cliReruns: rerunMs.length,
        cliRerunMaxMs: Math.max(...rerunMs),
        sagasCompleted: completed,
        sagasCompensated: compensated,
        documents: report.documents,
        committed: report.committed,
        violations: report.violations.length,
        stuck: 0,
      });
    } finally {
      for (const c of live) c.kill('SIGKILL');
      for (const w of workers) w.proc.kill('SIGKILL');
      await app.close();
      await env.close();
    }
  },
);
