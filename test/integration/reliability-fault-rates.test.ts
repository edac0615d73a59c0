// The seed's rates under faults, on the real servers (default plan, SQLite saga log), through the
// fault wrapper (src/stores/faults.ts):
//  1. 2% transient failures on every store call the sagas make (before or after the call applies):
//     success rate (goal > 99.5%), compensation rate (goal < 0.5%), P50/P90/P99 of the saga
//     duration (reported, not asserted: no timed assertions in tests), verify 0.
//  2. 0.5% permanent failures on the forward writes before the pivot: the sagas that received one
//     are exactly the sagas that compensated; every other saga completed; verify 0.
// Counts: 2,000 sagas per phase by default (the CI budget), 10,000 at RELIABILITY_SCALE=5. Seeded:
// RATES_SEED replays the same faults (the interleaving of concurrent sagas still varies).
// Figures go to test-artifacts/reliability/fault-rates.json.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { WriteResult } from '../../src/ingest/writer.js';
import { withFaults, type RandomFaults } from '../../src/stores/faults.js';
import { isStoreError } from '../../src/stores/errors.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { makeDoc } from '../fleet/harness.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';

const N = Math.round(2_000 * reliabilityScale());
const CONCURRENCY = 16;
const SEED = Number(process.env.RATES_SEED ?? Math.floor(Math.random() * 1e9));
const WRITES: Record<StoreName, string[]> = {
  postgres: [
    'putPending',
    'commit',
    'finishVersion',
    'discardPending',
    'release',
    'acquire',
    'removeVersion',
    'markDeleting',
    'unmarkDeleting',
    'deleteDocument',
  ],
  neo4j: ['writeVersion', 'removeVersion', 'removeDocument'],
  qdrant: ['writeVersion', 'removeVersion', 'removeDocument'],
  redis: ['put', 'remove'],
};
const FORWARD_BEFORE_PIVOT: Partial<Record<StoreName, string[]>> = {
  postgres: ['putPending'],
  neo4j: ['writeVersion'],
  qdrant: ['writeVersion'],
};

let env: RealStores;
const figures: Record<string, unknown> = { seed: SEED, sagasPerPhase: N, concurrency: CONCURRENCY };

before(async () => {
  console.log(`fault-rates seed=${SEED} (replay: RATES_SEED=${SEED})`);
  env = await realStores('fault_rates', 8);
});
after(async () => {
  writeResult('fault-rates', figures);
  await env.close();
});

/** Opens an app whose stores fail at random; `hit` collects the saga ids that received a fault. */
async function faultyApp(
  random: (store: StoreName) => RandomFaults | undefined,
  hit: Set<string>,
): Promise<{ app: App; raw: StoreSet; injected: () => number }> {
  let raw: StoreSet | undefined;
  const counters: Array<() => number> = [];
  const app = await openApp({
    config: env.config,
    embedder: new HashingEmbedder(),
    leaseMs: 30_000,
    wrapStores: (stores) => {
      raw = stores;
      const wrap = <K extends StoreName>(k: K): StoreSet[K] => {
        const spec = random(k);
        if (!spec) return stores[k];
        const w = withFaults(stores[k], { random: spec });
        counters.push(() => w.faults.injected().length);
        // Notes which saga got the fault (the WriteContext is the last argument of every write).
        return new Proxy(w.store, {
          get(target, prop, receiver) {
            const value: unknown = Reflect.get(target, prop, receiver);
            if (typeof value !== 'function') return value;
            return async (...args: unknown[]) => {
              try {
                return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
              } catch (err) {
                const ctx = args[args.length - 1] as { sagaId?: unknown } | undefined;
                if (isStoreError(err) && err.code === 'STORE_INJECTED' && typeof ctx?.sagaId === 'string') hit.add(ctx.sagaId);
                throw err;
              }
            };
          },
        });
      };
      return { postgres: wrap('postgres'), neo4j: wrap('neo4j'), qdrant: wrap('qdrant'), redis: wrap('redis') };
    },
  });
  return { app, raw: raw as StoreSet, injected: () => counters.reduce((a, c) => a + c(), 0) };
}

async function ingestAll(app: App, prefix: string): Promise<WriteResult[]> {
  const results: WriteResult[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const i = next++;
        results.push(await app.writer.ingest(makeDoc(prefix, i)));
      }
    }),
  );
  return results;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

test(
  `${N} ingest sagas with 2% transient failures per store call: success > 99.5%, compensation < 0.5%, verify 0`,
  { timeout: 600_000 },
  async () => {
    const hit = new Set<string>();
    const { app, raw, injected } = await faultyApp((k) => ({ seed: SEED + k.length, rate: 0.02, methods: WRITES[k], when: 'either' }), hit);
    try {
      const t0 = performance.now();
      const results = await ingestAll(app, 'transient');
      const wallMs = Math.round(performance.now() - t0);
      const completed = results.filter((r) => r.status === 'completed').length;
      const compensated = results.filter((r) => r.status === 'compensated').length;
      const durations = results.map((r) => r.durationMs).sort((a, b) => a - b);
      const report = await verifyStores(raw);
      Object.assign(figures, {
        transient: {
          sagas: results.length,
          faultsInjected: injected(),
          sagasHit: hit.size,
          completed,
          compensated,
          stuck: results.filter((r) => r.status === 'stuck').length,
          successRate: completed / results.length,
          compensationRate: compensated / results.length,
          p50Ms: Math.round(percentile(durations, 0.5)),
          p90Ms: Math.round(percentile(durations, 0.9)),
          p99Ms: Math.round(percentile(durations, 0.99)),
          wallMs,
          violations: report.violations.length,
        },
      });
      console.log(JSON.stringify(figures.transient));
      assert.ok(injected() > N * 0.05, `only ${injected()} faults injected: the run proves little`);
      assert.ok(completed / results.length > 0.995, `success rate ${completed}/${results.length}`);
      assert.ok(compensated / results.length < 0.005, `compensation rate ${compensated}/${results.length}`);
      assert.deepEqual(report.violations, []);
    } finally {
      await app.close();
    }
  },
);

test(
  `${N} ingest sagas with 0.5% permanent failures before the pivot: exactly the sagas hit compensate, all others complete`,
  { timeout: 600_000 },
  async () => {
    const hit = new Set<string>();
    const { app, raw, injected } = await faultyApp((k) => {
      const methods = FORWARD_BEFORE_PIVOT[k];
      return methods ? { seed: SEED + 7 * k.length, rate: 0.005, methods, when: 'either', retryableShare: 0 } : undefined;
    }, hit);
    try {
      const results = await ingestAll(app, 'permanent');
      const compensated = new Set(results.filter((r) => r.status === 'compensated').map((r) => r.sagaId ?? '?'));
      const others = results.filter((r) => r.status !== 'compensated' && r.status !== 'completed');
      const report = await verifyStores(raw);
      Object.assign(figures, {
        permanent: {
          sagas: results.length,
          faultsInjected: injected(),
          sagasHit: hit.size,
          compensated: compensated.size,
          otherThanCompletedOrCompensated: others.length,
          violations: report.violations.length,
        },
      });
      console.log(JSON.stringify(figures.permanent));
      assert.ok(hit.size > 0, 'no permanent fault was injected: the run proves little');
      assert.deepEqual(
        others.map((r) => `${r.docId} ${r.status}`),
        [],
      );
      assert.deepEqual([...compensated].sort(), [...hit].sort(), 'the sagas hit are exactly those that compensated');
      assert.deepEqual(report.violations, []);
    } finally {
      await app.close();
    }
  },
);
