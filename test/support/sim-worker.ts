// Runs simulation worlds in a worker thread (test/unit/sim-deterministic.test.ts). Why a worker:
// node:test installs an async hook (init + destroy) that tracks every promise of the test's
// process; the simulation creates millions of promises, and the hook made it about 1.6x slower
// (CPU time). A worker thread has its own async hooks, so the worlds run without it; two workers
// also use both cores. Each world is checked here, and the seed is reported with any violation.
import { parentPort, workerData } from 'node:worker_threads';
import { verifyStores } from '../../src/ingest/verify.js';
import { repairStores } from '../../src/ingest/repair.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { checkCompensations, checkLastPivot, sweepLateQdrant } from './sim-effects.js';
import { World, type BatchFigures, type WorldOptions } from './sim-world.js';

export interface WorldFigures {
  seed: number;
  sagas: number;
  crashes: number;
  faults: number;
  permanentFaults: number;
  compensatedSagas: number;
  effectsUndone: number;
  hash: string;
  /** Coalesced worlds: what the batches did. */
  batches: BatchFigures;
}

/** Runs one world and checks every invariant; throws with `SIM_SEED=<seed>` in the message. */
export async function checkWorld(opts: WorldOptions): Promise<WorldFigures> {
  const r = await new World(opts).run();
  const label = `SIM_SEED=${opts.seed}`;
  for (const status of ['running', 'compensating', 'pending', 'stuck'] as const) {
    const n = await r.log.count({ status });
    if (n !== 0) throw new Error(`${n} ${status} sagas left (${label})`);
  }
  await sweepLateQdrant(r.stores, r.effects);
  let report = await verifyStores(r.stores);
  // Qdrant cannot refuse a lost owner's late call (unfenced by design): a late removal can take a
  // version a later saga committed again (same content, same hash). The product's answer is
  // `repair` (src/ingest/repair.ts rewrites a missing committed version): run here only when every
  // finding is on Qdrant, for a document where such a late call changed Qdrant. Anything else fails.
  const late = new Set(r.effects.effects.filter((e) => e.stale && e.changed && e.call.startsWith('qdrant.')).map((e) => e.docId));
  if (report.violations.length > 0 && report.violations.every((v) => v.store === 'qdrant' && late.has(v.docId))) {
    const before = r.effects.effects.length;
    await repairStores(r.stores, new HashingEmbedder(), { dryRun: false });
    r.effects.effects.splice(before); // the repair's writes are no saga's (the effect checks are about sagas)
    report = await verifyStores(r.stores);
  }
  if (report.violations.length > 0) throw new Error(`verify: ${JSON.stringify(report.violations)} (${label})`);
  await checkLastPivot(r.log, r.effects, r.stores, label);
  const comp = await checkCompensations(r.log, r.effects, label);
  return {
    seed: opts.seed,
    sagas: r.sagasStarted,
    crashes: r.crashes,
    faults: r.faults,
    permanentFaults: r.permanentFaults,
    compensatedSagas: comp.compensatedSagas,
    effectsUndone: comp.effectsUndone,
    hash: r.hash,
    batches: r.batches,
  };
}

if (parentPort && workerData) {
  const port = parentPort;
  const { worlds } = workerData as { worlds: WorldOptions[] };
  for (const opts of worlds) {
    try {
      port.postMessage({ ok: true, figures: await checkWorld(opts) });
    } catch (err) {
      port.postMessage({ ok: false, seed: opts.seed, error: err instanceof Error ? err.message : String(err) });
      break;
    }
  }
  port.close();
}
