// Exhaustive small scopes (issue 13): 2 and 3 sagas (ingest, update, delete) on ONE document,
// each from its own process, with at most one fault (a crash, a lease expiry while the process
// goes on, or a refused saga write). Every execution of a scope is run (test/support/sim-scope.ts,
// explored by test/support/sim-explore.ts) and checked (test/support/sim-scope-check.ts):
//  - nothing is left running, compensating, pending or stuck; no writer failed;
//  - verify reports 0: the document is in all stores or in none of the derived ones (after the
//    stale-write sweep when a lost owner's Qdrant write landed late, as the worker runs it);
//  - the document holds what the last completed saga left (checkLastPivot in sim-effects.ts);
//  - a saga compensated only if one of its steps failed (resumed sagas complete);
//  - every applied effect of a compensated saga is undone exactly once, in reverse stage order.
// Bounds, as reported: without faults, every interleaving (sleep sets only skip orders that
// differ in swapping independent calls); with a fault, every placement of the fault at every
// point and every schedule with at most `preemptions` preemptions (CHESS; a switch when a
// process waits is free). In all cases a sleeping process wakes only when no call is pending.
// CI runs CI_SCOPES (about a minute on a loaded 2-core machine); RELIABILITY_SCALE > 1 or
// SIM_SCOPES=all adds the larger ones. A violation prints SIM_SCOPE, SIM_FAULTS and SIM_CHOICES:
// set them (and SIM_PREEMPTIONS if the scope had a bound) to replay exactly that execution.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import type { Exploration } from '../support/sim-explore.js';
import { replay } from '../support/sim-explore.js';
import { checkExecution, trapTimers, type ScopeConfig } from '../support/sim-scope-check.js';
import { ScopeRun, type FaultKind, type ScopeOp } from '../support/sim-scope.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';

const I = (variant: number): ScopeOp => ({ kind: 'ingest', variant });
const D: ScopeOp = { kind: 'delete' };
const R: ScopeOp = { kind: 'reindex' };
const FAULTS: FaultKind[] = ['crash', 'expire', 'fail'];

const TWO: Array<Omit<ScopeConfig, 'faults'>> = [
  { name: 'create+create', initial: null, ops: [I(1), I(2)] },
  { name: 'update+update', initial: 0, ops: [I(1), I(2)] },
  { name: 'update+delete', initial: 0, ops: [I(1), D] },
  { name: 'create+delete', initial: null, ops: [I(1), D] },
  { name: 'delete+delete', initial: 0, ops: [D, D] },
  { name: 'same content twice', initial: 0, ops: [I(1), I(1)] },
];
const THREE: Array<Omit<ScopeConfig, 'faults'>> = [
  { name: 'update+update+delete', initial: 0, ops: [I(1), I(2), D] },
  { name: 'create+update+delete', initial: null, ops: [I(1), I(2), D] },
];

/**
 * A reindex in progress (issue 25; sim-scope.ts `reindex`, sim-reindex.ts): the real reindex saga
 * and an update, a delete or a create of its document, the document (if any) in the old target
 * only. Besides the invariants above: no orphan or stale version in the next target; when the
 * reindex saga completed, the document is current there already (the loop has nothing to do);
 * after the loop's fixed point, both targets verify in full.
 */
const REINDEX: Array<Omit<ScopeConfig, 'faults'>> = [
  { name: 'reindex+update', initial: 0, ops: [R, I(1)], reindex: true },
  { name: 'reindex+delete', initial: 0, ops: [R, D], reindex: true },
  { name: 'reindex+create', initial: null, ops: [R, I(1)], reindex: true },
];

/**
 * CI: every 2-saga scope with one fault (preemption bound 0), three of them without a fault (every
 * interleaving), and the 3-saga scopes without a fault (preemption bound 0).
 */
const CI_SCOPES: ScopeConfig[] = [
  ...TWO.map((s) => ({ ...s, faults: FAULTS, preemptions: 0 })),
  ...TWO.slice(0, 3).map((s) => ({ ...s, faults: [] })),
  ...THREE.map((s) => ({ ...s, faults: [], preemptions: 0 })),
  ...REINDEX.slice(0, 2).map((s) => ({ ...s, faults: ['crash' as const], preemptions: 0, faultProcs: ['p0'] })),
];
/**
 * The store group commit (issue 18): one update, p0 also ingesting a companion document, both
 * sagas through one coalescer (sim-scope.ts `coalesce`), every fault, bound 0. Not in CI: more
 * than 10,000 executions (still going after 10 minutes on the loaded 2-core machine).
 */
const COALESCED: ScopeConfig[] = [{ name: 'coalesced update', initial: 0, ops: [I(1)], faults: FAULTS, preemptions: 0, coalesce: true }];
/** Longer runs: 3 sagas, and more preemptions. */
const MORE_SCOPES: ScopeConfig[] = [
  ...TWO.slice(3).map((s) => ({ ...s, faults: [] })),
  ...TWO.map((s) => ({ ...s, faults: FAULTS, preemptions: 1 })),
  ...THREE.map((s) => ({ ...s, faults: [], preemptions: 1 })),
  ...THREE.map((s) => ({ ...s, faults: FAULTS, preemptions: 0 })),
  ...COALESCED,
  ...REINDEX.map((s) => ({ ...s, faults: [] })),
  ...REINDEX.map((s) => ({ ...s, faults: ['crash' as const, 'fail' as const], preemptions: 0 })),
];

const env = process.env;
const everything = env.SIM_SCOPES === 'all' || reliabilityScale() > 1;
let scopes = everything ? [...CI_SCOPES, ...MORE_SCOPES] : CI_SCOPES;
if (env.SIM_SCOPE) {
  const base = [...TWO, ...THREE, ...COALESCED, ...REINDEX].find((s) => s.name === env.SIM_SCOPE);
  if (!base) throw new Error(`no scope ${env.SIM_SCOPE}`);
  const faults = (env.SIM_FAULTS ?? '').split(',').filter((f): f is FaultKind => (FAULTS as string[]).includes(f));
  scopes = [
    {
      ...base,
      faults,
      ...(env.SIM_PREEMPTIONS ? { preemptions: Number(env.SIM_PREEMPTIONS) } : {}),
      ...(env.SIM_FAULT_PROCS ? { faultProcs: env.SIM_FAULT_PROCS.split(',') } : {}),
    },
  ];
}

type Message =
  | { ok: true; scope: ScopeConfig; exploration: Exploration & { wallMs: number } }
  | { ok: false; scope: ScopeConfig; error: string };

function inWorker(list: ScopeConfig[], onScope: (m: Message & { ok: true }) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../support/sim-worker-entry.mjs', import.meta.url), {
      workerData: { module: './sim-scope-check.ts', scopes: list },
    });
    w.on('message', (m: Message) => (m.ok ? onScope(m) : reject(new Error(m.error))));
    w.on('error', reject);
    w.on('exit', () => resolve());
  });
}

test(
  'exhaustive small scopes: every interleaving of 2-3 sagas on one document with one fault',
  { timeout: everything ? 7_200_000 : 600_000 },
  async () => {
    const only = scopes[0];
    if (env.SIM_CHOICES !== undefined && only) {
      const restore = trapTimers();
      try {
        const sequence = env.SIM_CHOICES.split(',');
        await checkExecution(await replay(() => new ScopeRun(only), sequence), sequence);
      } finally {
        restore();
      }
      return;
    }
    const t0 = performance.now();
    const rows: Array<Record<string, unknown>> = [];
    // Two workers, the scopes dealt alternately (each scope is one deterministic search).
    const shares = [scopes.filter((_, i) => i % 2 === 0), scopes.filter((_, i) => i % 2 === 1)].filter((s) => s.length > 0);
    await Promise.all(
      shares.map((share) =>
        inWorker(share, ({ scope, exploration: x }) => {
          const bound = scope.preemptions === undefined ? 'every interleaving' : `preemption bound ${scope.preemptions}`;
          console.log(
            `scope ${scope.name} (faults: ${scope.faults.join(', ') || 'none'}; ${bound}): ${x.executions} executions checked (${x.sleepBlocked} cut short by sleep sets), up to ${x.maxDepth} choices, ${x.wallMs} ms`,
          );
          assert.ok(x.executions > 0 && !x.truncated);
          rows.push({
            scope: scope.name,
            sagas: scope.ops.length,
            initial: scope.initial === null ? 'absent' : 'committed',
            ops: scope.ops.map((o) => (o.kind === 'ingest' ? `ingest v${o.variant}` : o.kind)),
            faults: scope.faults,
            preemptions: scope.preemptions,
            executions: x.executions,
            sleepBlocked: x.sleepBlocked,
            maxDepth: x.maxDepth,
            wallMs: x.wallMs,
          });
        }),
      ),
    );
    assert.equal(rows.length, scopes.length, 'a worker ended before all its scopes ran');
    const total = rows.reduce((a, r) => a + Number(r.executions), 0);
    console.log(`${total} executions in ${rows.length} scopes, ${Math.round(performance.now() - t0)} ms`);
    if (!env.SIM_SCOPE)
      writeResult('simulation-exhaustive', { scopes: rows, executions: total, wallMs: Math.round(performance.now() - t0), violations: 0 });
  },
);
