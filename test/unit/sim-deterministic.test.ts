// Deterministic simulation (test/support/sim-world.ts): the real engine, MemoryWriter and sagas on
// the memory saga log and model stores (test/support/sim-stores.ts, which model the store
// contract), a virtual clock, and at every store or log call a seeded chance that the process
// crashes there or (store calls) fails transiently before or after applying, or is refused. Each world runs 3
// processes x 4 writers updating and deleting 12 shared documents, replaces crashed processes,
// then a fresh process finishes what the dead left. Invariants after every world:
//  - no saga is left running, compensating, pending or stuck (resumed sagas end);
//  - verify reports 0 (each document in all stores or in none of the derived ones; no leftovers);
//  - every document holds what the last completed saga on it left (test/support/last-writer.ts);
//  - every applied effect of a compensated saga is undone exactly once, in reverse stage order
//    (test/support/sim-effects.ts; a seeded 0.2% of saga writes are refused permanently so that
//    sagas do compensate).
// The first world runs twice and must produce the same trace hash (bit-for-bit replay).
// Replay a failing world with SIM_SEED=<seed> (printed). SIM_SAGAS or RELIABILITY_SCALE scale it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyStores } from '../../src/ingest/verify.js';
import { checkLastWriterWins } from '../support/last-writer.js';
import { checkCompensations } from '../support/sim-effects.js';
import { World, type WorldOptions } from '../support/sim-world.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';

const TOTAL = Number(process.env.SIM_SAGAS ?? Math.round(100_000 * reliabilityScale()));
const PER_WORLD = 2_000;
const base = Number(process.env.SIM_SEED ?? Math.floor(Math.random() * 1e9));
const options = (seed: number, sagas = PER_WORLD): WorldOptions => ({ seed, docs: 12, processes: 3, lanes: 4, sagas, leaseMs: 1_000, crashRate: 0.002, faultRate: 0.01, permanentRate: 0.002 });

async function check(seed: number, sagas?: number) {
  const r = await new World(options(seed, sagas)).run();
  const label = `SIM_SEED=${seed}`;
  for (const status of ['running', 'compensating', 'pending', 'stuck'] as const) {
    assert.equal(await r.log.count({ status }), 0, `${status} sagas left (${label})`);
  }
  const report = await verifyStores(r.stores);
  assert.deepEqual(report.violations, [], label);
  await checkLastWriterWins({ profile: { log: r.log }, stores: r.stores }, label, 0);
  const comp = await checkCompensations(r.log, r.effects, label);
  return { ...r, comp };
}

test(`deterministic simulation: ${TOTAL.toLocaleString('en')} sagas with crashes and faults at every call`, { timeout: 600_000 }, async () => {
  console.log(`sim seed=${base} (replay one world: SIM_SEED=<its seed>)`);
  const t0 = performance.now();
  const first = await check(base, 300);
  const again = await check(base, 300);
  assert.equal(again.hash, first.hash, `SIM_SEED=${base} did not replay bit for bit`);
  let sagas = 0;
  let crashes = 0;
  let faults = 0;
  let worlds = 0;
  let permanent = 0;
  let compensated = 0;
  let undone = 0;
  for (let seed = base; sagas < TOTAL; seed++) {
    const r = await check(seed);
    sagas += r.sagasStarted;
    crashes += r.crashes;
    faults += r.faults;
    permanent += r.permanentFaults;
    compensated += r.comp.compensatedSagas;
    undone += r.comp.effectsUndone;
    worlds++;
  }
  const wallMs = Math.round(performance.now() - t0);
  console.log(`simulated ${sagas} sagas in ${worlds} worlds: ${crashes} crashes, ${faults} transient faults, ${permanent} permanent refusals, ${compensated} compensated sagas (${undone} effects undone exactly once, in reverse order), ${wallMs} ms`);
  writeResult('simulation', { seed: base, sagas, worlds, crashes, faults, wallMs, replayHash: first.hash, violations: 0, permanentFaults: permanent, compensatedSagas: compensated, effectsUndone: undone });
});
