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
import { allSagas } from './log-pages.js';
import type { OperatorFigures } from './sim-reindex-ops.js';

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
  /** Reindex worlds: reindex sagas started in the world and completed, and what the final loop did. */
  reindex?: {
    sagas: number;
    completed: number;
    finalPasses: number;
    finalReindexed: number;
    /** `switching`/`rollback` worlds: the operator's transitions (sim-reindex-ops.ts). */
    operator?: OperatorFigures;
  };
}

/** Runs one world and checks every invariant; throws with `SIM_SEED=<seed>` in the message. */
export async function checkWorld(opts: WorldOptions): Promise<WorldFigures> {
  const world = new World(opts);
  const r = await world.run();
  const label = `SIM_SEED=${opts.seed}`;
  for (const status of ['running', 'compensating', 'pending', 'stuck'] as const) {
    const n = await r.log.count({ status });
    if (n !== 0) throw new Error(`${n} ${status} sagas left (${label})`);
  }
  await sweepLateQdrant(r.stores, r.effects);
  // Reindex worlds: the other target too (sim-reindex.ts: in full once switched; while migrating
  // no orphan and no stale version, before the reindex loop's final pass).
  const verify = () => world.index?.verify(r.stores) ?? verifyStores(r.stores);
  let report = await verify();
  // Qdrant cannot refuse a lost owner's late call (unfenced by design): a late removal can take a
  // version a later saga committed again (same content, same hash). The product's answer is
  // `repair` (src/ingest/repair.ts rewrites a missing committed version): run here only when every
  // finding is on Qdrant, for a document where such a late call changed Qdrant. Anything else fails.
  const late = new Set(r.effects.effects.filter((e) => e.stale && e.changed && e.call.startsWith('qdrant.')).map((e) => e.docId));
  if (report.violations.length > 0 && report.violations.every((v) => v.store === 'qdrant' && late.has(v.docId))) {
    const before = r.effects.effects.length;
    await repairStores(r.stores, new HashingEmbedder(), { dryRun: false });
    r.effects.effects.splice(before); // the repair's writes are no saga's (the effect checks are about sagas)
    report = await verify();
  }
  if (report.violations.length > 0) throw new Error(`verify: ${JSON.stringify(report.violations)} (${label})`);
  await checkLastPivot(r.log, r.effects, r.stores, label);
  const comp = await checkCompensations(r.log, r.effects, label);
  let reindex: WorldFigures['reindex'];
  if (world.index) {
    const sagas = await allSagas(r.log);
    const mine = sagas.filter((s) => s.name === 'reindex');
    const summary = await world.finalReindex(label);
    // No document is left held (a saga across a transition released what it took).
    for (let i = 0; i < opts.docs; i++) {
      const holder = await r.stores.postgres.holderOf(`sim-${i}`);
      if (holder !== undefined) throw new Error(`sim-${i} is left held by ${holder} (${label})`);
    }
    reindex = {
      sagas: mine.length,
      completed: mine.filter((s) => s.status === 'completed').length,
      finalPasses: summary?.passes ?? 0,
      finalReindexed: summary?.reindexed ?? 0,
      ...(world.operator ? { operator: world.operator } : {}),
    };
    // The transitions happened while the writers went on (not after the last saga started).
    const op = world.operator;
    if (op) {
      if (op.switchedAt < 0 || op.switchedAt >= r.sagasStarted) throw new Error(`no switch mid-world: ${JSON.stringify(op)} (${label})`);
      const second = world.index.kind === 'finishing' ? op.finishedAt : op.rolledBackAt;
      if (world.index.kind !== 'switching' && (second < 0 || second >= r.sagasStarted))
        throw new Error(`no rollback or finish mid-world: ${JSON.stringify(op)} (${label})`);
    }
  }
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
    ...(reindex ? { reindex } : {}),
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
