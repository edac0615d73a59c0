// Random kill campaign on the real servers (PostgreSQL saga log, 1 s leases): at least 100 SIGKILLs
// in CI (x RELIABILITY_SCALE: 200 at 2; CI ran 200 until the suite went over its 30-minute budget) at random
// moments, across three lanes running at once:
//  - writers: 4 at a time, each updating and deleting 20 shared documents from 4 lanes
//    (reliability-kill-child.ts), SIGKILLed and replaced. Three lanes kill theirs 0.3-2.5 s after
//    spawn (mostly in start-up on a loaded machine: opening the stores, creating the schema); the
//    fourth waits for READY and kills a random 0-1.5 s later, mid-saga (the child's four lanes
//    start writing at READY). At least 3 (x scale) kills must land after READY: that lane goes on
//    until they have (90 s at most past the others), so the mid-saga case cannot silently vanish;
//  - the CLI: `apex-memory ingest` of one JSONL file (30 documents, 10 min leases) SIGKILLed once it
//    reports progress, then the same command again at once: it must finish with nothing
//    compensated, without waiting out the dead run's leases (under 240 s);
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
const TARGET_KILLS = Math.round(100 * SCALE);
const MAX_MS = Math.round(170_000 * SCALE);
const LEASE_MS = 1_000;
/** Writer kills that must land after READY (mid-saga): the after-READY lane goes on until they have. */
const MIN_AFTER_READY = Math.round(3 * SCALE);
const CHILD = join(import.meta.dirname, 'reliability-kill-child.ts');

test(
  `kill campaign: ${TARGET_KILLS}+ SIGKILLs across writers, CLI re-runs and a 3-worker fleet: verify 0, last writer wins`,
  { timeout: MAX_MS + 420_000 }, // a hang guard: lanes end by MAX_MS plus one CLI re-run (240 s), then the drain
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

    // Killed mid-saga or in start-up. The after-READY lane replaces one of four start-up lanes
    // rather than adding a fifth (a trade, as the issue asks): during the campaign a writer takes
    // 29-55 s to print READY on the loaded 2-core machine (5-8 s when started alone), so this lane
    // kills about 3 writers a run, and the campaign, which ends at its kill count, takes about as
    // long as with four start-up lanes (seed 417: 126 s, against 130 s). Earlier versions that made
    // every 2nd (d082436) or every 4th writer wait for READY ran far longer: each lane spent most
    // of its time waiting. Counted: how many kills landed after READY, and the start-up times.
    let afterReady = 0;
    const readyMs: number[] = [];
    const openMs: number[] = []; // of which opening the app (the rest: node and tsx loading the code)
    const writerLane = async (waitForReady: boolean): Promise<void> => {
      // The after-READY lane may run up to 90 s past the others to reach its minimum.
      const more = (): boolean => going() || (waitForReady && afterReady < MIN_AFTER_READY && Date.now() - t0 < MAX_MS + 90_000);
      while (more()) {
        const spawnedAt = Date.now();
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
        let onReady: () => void = () => undefined;
        const readyNow = new Promise<void>((r) => (onReady = r));
        child.stdout?.on('data', (d: Buffer) => {
          const line = /READY load=(\d+) open=(\d+)/.exec(d.toString());
          if (!ready && line) {
            ready = true;
            readyMs.push(Date.now() - spawnedAt);
            openMs.push(Number(line[2]));
            onReady();
          }
        });
        const exited = new Promise((r) => child.on('exit', r));
        if (waitForReady) {
          // Bounded: past 120 s it is killed anyway, as a start-up kill (seen: 29-55 s at load 20).
          await Promise.race([readyNow, exited, sleep(120_000)]);
          if (ready) await Promise.race([sleep(Math.floor(random() * 1_500)), exited]);
        } else {
          await Promise.race([sleep(300 + Math.floor(random() * 2_200)), exited]);
        }
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
    // Leases of 10 min, renewed every third: a re-run that waited one out would take 6.7 min or
    // more, well over the 240 s it is allowed. Leases of 5 min with 120 s allowed were too close:
    // at load average 30 on the 2 cores a re-run that took over at once still needed 154 s (seed
    // 415; node and tsx loading plus opening the app alone took about 45 s there).
    const cliEnv = { ...serversEnv(env.config), APEX_DATA_DIR: dataDir, APEX_LEASE_MS: '600000' };
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
      await Promise.all([writerLane(false), writerLane(false), writerLane(false), writerLane(true), cliLane(), fleetLane()]);
      const elapsedMs = Date.now() - t0;
      console.log(
        `kills ${JSON.stringify(kills)} (${afterReady} writers after READY) in ${elapsedMs} ms; writer start-up to READY ${startupText(readyMs)} (opening the app: ${startupText(openMs)}); ${queued} fleet sagas queued; CLI re-runs took ${rerunMs.join(', ')} ms`,
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
      assert.ok(afterReady >= MIN_AFTER_READY, `only ${afterReady} writer kills after READY (at least ${MIN_AFTER_READY})`);
      assert.ok(Math.max(...rerunMs) < 240_000, 'a re-run waited out a lease');
      writeResult('kill-campaign', {
        seed,
        kills,
        writerKillsAfterReady: afterReady,
        writerStartupMs: startupText(readyMs),
        writerOpenAppMs: startupText(openMs),
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

/** Start-up times (spawn to READY) as "median X ms, max Y ms over N". */
function startupText(ms: number[]): string {
  if (ms.length === 0) return 'never seen';
  const sorted = [...ms].sort((a, b) => a - b);
  return `median ${sorted[Math.floor(sorted.length / 2)] ?? 0} ms, max ${sorted[sorted.length - 1] ?? 0} ms over ${sorted.length}`;
}
