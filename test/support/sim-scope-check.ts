// The invariants checked after each execution of an exhaustive small scope (sim-scope.ts), and
// the worker that explores scopes off the test's thread (sim-worker.ts says why a worker).
import assert from 'node:assert/strict';
import { parentPort, workerData } from 'node:worker_threads';
import { verifyStores } from '../../src/ingest/verify.js';
import { sweepDocument } from '../../src/ingest/sweep.js';
import { checkCompensations, checkLastPivot } from './sim-effects.js';
import { explore, type Exploration } from './sim-explore.js';
import { COMPANION_ID, DOC_ID, ScopeRun, type Scope } from './sim-scope.js';
import { allSagas } from './log-pages.js';
import { compareTarget } from '../../src/ingest/reindex/compare.js';

export interface ScopeConfig extends Scope {
  /** Preemption bound (sim-explore.ts); undefined: every interleaving, with sleep sets. */
  preemptions?: number;
}

// A crashed process's calls never settle; real timers it armed (a cancelled call's grace period)
// must neither keep the process alive nor pile up over thousands of executions.
const realSetTimeout = globalThis.setTimeout;
const armed = new Set<ReturnType<typeof setTimeout>>();
export function trapTimers(): () => void {
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    const t = realSetTimeout(...args).unref();
    armed.add(t);
    return t;
  }) as typeof setTimeout;
  return () => {
    globalThis.setTimeout = realSetTimeout;
  };
}

export async function checkExecution(run: ScopeRun, sequence: readonly string[]): Promise<void> {
  const procs = run.scope.faultProcs ? ` SIM_FAULT_PROCS=${run.scope.faultProcs.join(',')}` : '';
  const label = `SIM_SCOPE='${run.scope.name}' SIM_FAULTS=${run.scope.faults.join(',') || 'none'}${procs} SIM_CHOICES=${sequence.join(',')}`;
  try {
    assert.deepEqual(run.errors, [], `a writer failed (${label})`);
    await run.finish();
    for (const status of ['running', 'compensating', 'pending', 'stuck'] as const) {
      assert.equal(await run.log.count({ status }), 0, `${status} sagas left (${label})`);
    }
    // A lost owner's late Qdrant write: the worker's stale-write sweep removes it (src/ingest/sweep.ts).
    if (run.staleLanded)
      for (const d of run.scope.coalesce ? [DOC_ID, COMPANION_ID] : [DOC_ID]) await run.until(sweepDocument(run.stores, d));
    // With a reindex: the next target too, for orphans and stale versions (sim-reindex.ts).
    const report = await (run.index?.verify(run.stores) ?? verifyStores(run.stores));
    assert.deepEqual(report.violations, [], label);
    await checkLastPivot(run.log, run.effects, run.stores, label);
    await checkCompensations(run.log, run.effects, label);
    for (const s of await allSagas(run.log, { status: 'compensated' })) {
      const stored = await run.log.load(s.sagaId);
      const failed = stored?.records.some((r) => r.type === 'step_failed' && !r.willRetry);
      assert.ok(failed, `${s.sagaId} compensated although no step failed (${label})`);
    }
    if (run.index) await checkReindex(run, label);
  } finally {
    for (const t of armed) clearTimeout(t);
    armed.clear();
  }
}

/**
 * A reindex scope: when every reindex saga of the scope completed, the document is current in the
 * next target already (the saga wrote the committed version while holding the document, and every
 * saga after it dual-wrote): the reindex loop would find nothing to do. Otherwise (a refused write
 * compensated it) the loop runs to its fixed point. Then both targets verify in full (a deleted
 * document in neither).
 */
async function checkReindex(run: ScopeRun, label: string): Promise<void> {
  const index = run.index;
  if (!index) return;
  const reindexIds = run.scope.ops.flatMap((op, i) => (op.kind === 'reindex' ? [`s${i}`] : []));
  const statuses = await Promise.all(reindexIds.map(async (id) => (await run.log.load(id))?.status));
  if (statuses.every((s) => s === 'completed')) {
    const cmp = await compareTarget(run.stores, index.otherStore(run.stores));
    assert.deepEqual(cmp.problems, [], `the reindex saga completed, yet the next target is not current (${label})`);
    // The loop's first comparison would find nothing to do: both targets in full, without it (the
    // loop costs a recovery and a comparison per execution, thousands of executions per scope).
    const report = await index.verify(run.stores, true);
    assert.deepEqual(report.violations, [], `verify of both targets (${label})`);
    return;
  }
  await run.reindexFinal(label);
}

export async function exploreScope(scope: ScopeConfig): Promise<Exploration & { wallMs: number }> {
  const t = performance.now();
  const x = await explore(() => new ScopeRun(scope), checkExecution, {
    ...(scope.preemptions === undefined ? {} : { preemptions: scope.preemptions }),
    // SIM_PROGRESS: a line every 1,000 executions (to size a new scope).
    ...(process.env.SIM_PROGRESS ? { progress: (x: Exploration) => console.error(`${scope.name}: ${x.executions} executions`) } : {}),
  });
  return { ...x, wallMs: Math.round(performance.now() - t) };
}

if (parentPort && (workerData as { scopes?: unknown } | undefined)?.scopes) {
  const port = parentPort;
  const restore = trapTimers();
  for (const scope of (workerData as { scopes: ScopeConfig[] }).scopes) {
    try {
      port.postMessage({ ok: true, scope, exploration: await exploreScope(scope) });
    } catch (err) {
      port.postMessage({ ok: false, scope, error: err instanceof Error ? err.message : String(err) });
      break;
    }
  }
  restore();
  port.close();
}
