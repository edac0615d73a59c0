// Deterministic simulation (test/support/sim-world.ts): the real engine, MemoryWriter and sagas on
// the memory saga log and model stores (test/support/sim-stores.ts, which model the store
// contract), a virtual clock, and at every store or log call a seeded chance that the process
// crashes there or (store calls) fails transiently before or after applying, or is refused. Each
// world runs 3 processes x 4 writers updating and deleting 12 shared documents, replaces crashed
// processes, then a fresh process finishes what the dead left. Invariants after every world
// (test/support/sim-worker.ts checkWorld):
//  - no saga is left running, compensating, pending or stuck (resumed sagas end);
//  - verify reports 0 (each document in all stores or in none of the derived ones; no leftovers);
//  - every document holds what the last completed saga on it left: the last pivot that changed it
//    is a completed saga's, and no pivot changed it twice (checkLastPivot in sim-effects.ts);
//  - every applied effect of a compensated saga is undone exactly once, in reverse stage order
//    (test/support/sim-effects.ts; a seeded 0.2% of saga writes are refused permanently so that
//    sagas do compensate).
// The first world runs twice and must produce the same trace hash (bit-for-bit replay). The
// worlds run in two worker threads (sim-worker.ts says why); each world is still one seed.
// Replay a failing world with SIM_SEED=<seed> (printed). SIM_SAGAS or RELIABILITY_SCALE scale it.
// The second test runs the same worlds with the store group commit (issue 18): the real coalescer
// in every process between its sagas and the model stores, crash points right after a batch
// applied (before any member's outcome is back or logged), and stalls that turn an owner stale
// while its members ride in batches with its other sagas' (sim-world.ts `coalesce`, `stallRate`).
// SIM_COALESCED_SAGAS scales it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { WorldOptions } from '../support/sim-world.js';
import { checkWorld, type WorldFigures } from '../support/sim-worker.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';

const TOTAL = Number(process.env.SIM_SAGAS ?? Math.round(100_000 * reliabilityScale()));
const PER_WORLD = 2_000;
const WORKERS = 2;
const base = Number(process.env.SIM_SEED ?? Math.floor(Math.random() * 1e9));
const options = (seed: number, sagas = PER_WORLD): WorldOptions => ({
  seed,
  docs: 12,
  processes: 3,
  lanes: 4,
  sagas,
  leaseMs: 1_000,
  crashRate: 0.002,
  faultRate: 0.01,
  permanentRate: 0.002,
});

/** Runs `worlds` in a worker thread; rejects with the first violation (its message names the seed). */
function inWorker(worlds: WorldOptions[]): Promise<WorldFigures[]> {
  return new Promise((resolve, reject) => {
    const out: WorldFigures[] = [];
    const w = new Worker(new URL('../support/sim-worker-entry.mjs', import.meta.url), { workerData: { worlds } });
    w.on('message', (m: { ok: true; figures: WorldFigures } | { ok: false; seed: number; error: string }) => {
      if (m.ok) out.push(m.figures);
      else reject(new Error(`SIM_SEED=${m.seed}: ${m.error}`));
    });
    w.on('error', reject);
    w.on('exit', () => resolve(out));
  });
}

test(
  `deterministic simulation: ${TOTAL.toLocaleString('en')} sagas with crashes and faults at every call`,
  { timeout: 600_000 },
  async () => {
    console.log(`sim seed=${base} (replay one world: SIM_SEED=<its seed>)`);
    const t0 = performance.now();
    const first = await checkWorld(options(base, 300));
    const again = await checkWorld(options(base, 300));
    assert.equal(again.hash, first.hash, `SIM_SEED=${base} did not replay bit for bit`);
    const worlds = Array.from({ length: Math.ceil(TOTAL / PER_WORLD) }, (_, i) => options(base + i));
    const shares = Array.from({ length: WORKERS }, (_, k) => worlds.filter((_, i) => i % WORKERS === k));
    const results = (await Promise.all(shares.map((s) => inWorker(s)))).flat();
    assert.equal(results.length, worlds.length, 'a worker ended before all its worlds ran');
    const sum = (k: keyof WorldFigures): number => results.reduce((a, r) => a + Number(r[k]), 0);
    const [sagas, crashes, faults, permanent, compensated, undone] = (
      ['sagas', 'crashes', 'faults', 'permanentFaults', 'compensatedSagas', 'effectsUndone'] as const
    ).map(sum);
    assert.ok((sagas ?? 0) >= TOTAL, `only ${sagas} sagas simulated`);
    const wallMs = Math.round(performance.now() - t0);
    console.log(
      `simulated ${sagas} sagas in ${results.length} worlds: ${crashes} crashes, ${faults} transient faults, ${permanent} permanent refusals, ${compensated} compensated sagas (${undone} effects undone exactly once, in reverse order), ${wallMs} ms`,
    );
    writeResult('simulation', {
      seed: base,
      sagas,
      worlds: results.length,
      crashes,
      faults,
      wallMs,
      replayHash: first.hash,
      violations: 0,
      permanentFaults: permanent,
      compensatedSagas: compensated,
      effectsUndone: undone,
    });
  },
);

const COALESCED = Number(process.env.SIM_COALESCED_SAGAS ?? Math.round(3_000 * reliabilityScale()));
const coalesced = (seed: number, sagas: number): WorldOptions => ({
  ...options(seed, sagas),
  // More lanes per process than documents can block: a process's sagas then share batches.
  docs: 32,
  processes: 2,
  lanes: 8,
  coalesce: true,
  stallRate: 0.001,
});

test(
  `deterministic simulation with coalesced store calls: ${COALESCED.toLocaleString('en')} sagas, crashes after a batch applied, stale members`,
  { timeout: 600_000 },
  async () => {
    const seed = base + 1_000_003;
    console.log(`sim coalesced seed=${seed} (replay one world: SIM_SEED=<its seed>; the coalesced worlds are base + 1000003 + i)`);
    const t0 = performance.now();
    const first = await checkWorld(coalesced(seed, 200));
    const again = await checkWorld(coalesced(seed, 200));
    assert.equal(again.hash, first.hash, `SIM_SEED=${seed} (coalesced) did not replay bit for bit`);
    const per = Math.ceil(COALESCED / WORKERS);
    const results = (await Promise.all(Array.from({ length: WORKERS }, (_, k) => inWorker([coalesced(seed + k, per)])))).flat();
    assert.equal(results.length, WORKERS, 'a worker ended before its world ran');
    const total = (k: keyof WorldFigures['batches']): number => results.reduce((a, r) => a + r.batches[k], 0);
    const figures = {
      sagas: results.reduce((a, r) => a + r.sagas, 0),
      crashes: results.reduce((a, r) => a + r.crashes, 0),
      compensatedSagas: results.reduce((a, r) => a + r.compensatedSagas, 0),
      batches: total('batches'),
      sharedMembers: total('sharedMembers'),
      maxBatch: Math.max(...results.map((r) => r.batches.maxBatch)),
      staleMembers: total('staleMembers'),
      staleRefused: total('staleRefused'),
      crashesAfterApply: total('crashesAfterApply'),
      stalls: total('stalls'),
    };
    const wallMs = Math.round(performance.now() - t0);
    console.log(`coalesced simulation: ${JSON.stringify(figures)}, ${wallMs} ms`);
    // The new cases did happen (each is expected tens of times in these worlds): the batched path
    // ran with shared batches, a process crashed between a batch's apply and its members'
    // outcomes, and a lost owner's member rode in a batch with other sagas' members.
    assert.ok(figures.sharedMembers > 0, 'no saga write shared a batch');
    assert.ok(figures.crashesAfterApply > 0, 'no crash after a batch applied');
    assert.ok(figures.staleMembers > 0, "no stale owner's member in a shared batch");
    writeResult('simulation-coalesced', { seed, wallMs, violations: 0, replayHash: first.hash, ...figures });
  },
);
