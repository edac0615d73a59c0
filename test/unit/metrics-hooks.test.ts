// Engine hooks -> metrics, on the real engine with an in-memory log: outcomes, durations, steps by
// phase, retries, compensations (failed ones too), in-flight, stuck from the log, the consistency
// window; the store wrapper; drift from verify; the /metrics endpoint.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemorySagaLog } from '../../src/log/memory.js';
import { recordVerify } from '../../src/metrics/drift.js';
import { ApexMetrics } from '../../src/metrics/registry.js';
import { sagaMetricHooks } from '../../src/metrics/saga-hooks.js';
import { watchStuck } from '../../src/metrics/scrape.js';
import { serveMetrics } from '../../src/metrics/server.js';
import { instrumentStores } from '../../src/metrics/stores.js';
import { SagaEngine } from '../../src/saga/index.js';
import { StoreError } from '../../src/stores/errors.js';
import type { StoreSet } from '../../src/stores/types.js';
import { planSaga, traceOf } from '../support/saga-fixtures.js';

async function value(m: ApexMetrics, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = m.registry.getSingleMetric(name);
  assert.ok(metric, `metric ${name} exists`);
  const got = await metric.get();
  const hit = got.values.find((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want));
  return hit?.value;
}

function setup(): { m: ApexMetrics; engine: SagaEngine; log: MemorySagaLog } {
  const m = new ApexMetrics();
  const log = new MemorySagaLog();
  const engine = new SagaEngine({ log, leaseMs: 5_000, heartbeatMs: 0, hooks: sagaMetricHooks(m) });
  return { m, engine, log };
}

test('a compensated saga: outcome, duration, failed step, compensations and retries are counted', async () => {
  const { m, engine } = setup();
  const saga = planSaga(
    's',
    [{ name: 'a' }, { name: 'b', failOn: [1], retryable: true, maxAttempts: 2 }, { name: 'c', failOn: 'always' }],
    traceOf(),
  );
  const out = await engine.execute(saga, { n: 1 });
  assert.equal(out.status, 'compensated');
  assert.equal(await value(m, 'apex_saga_started_total', { saga: 's', resumed: 'false' }), 1);
  assert.equal(await value(m, 'apex_saga_finished_total', { saga: 's', outcome: 'compensated' }), 1);
  assert.equal(await value(m, 'apex_saga_duration_seconds', { saga: 's', outcome: 'compensated', le: '+Inf' }), 1);
  assert.equal(await value(m, 'apex_saga_step_duration_seconds', { saga: 's', step: 'b', phase: 'run', outcome: 'error', le: '+Inf' }), 1);
  assert.equal(await value(m, 'apex_saga_step_duration_seconds', { saga: 's', step: 'b', phase: 'run', outcome: 'ok', le: '+Inf' }), 1);
  assert.equal(await value(m, 'apex_saga_step_retries_total', { saga: 's', step: 'b', phase: 'run' }), 1);
  for (const step of ['a', 'b', 'c'])
    assert.equal(await value(m, 'apex_saga_compensations_total', { saga: 's', step, outcome: 'succeeded' }), 1, step);
  assert.equal(
    await value(m, 'apex_saga_step_duration_seconds', { saga: 's', step: 'a', phase: 'compensate', outcome: 'ok', le: '+Inf' }),
    1,
  );
  assert.equal(await value(m, 'apex_sagas_in_flight', { saga: 's' }), 0);
});

test('a compensation that keeps failing: failed compensations counted, the saga is stuck, and the log-backed gauge sees it', async () => {
  const { m, engine, log } = setup();
  const saga = planSaga(
    'st',
    [
      { name: 'a', compensationFailOn: 'always', compensationMaxAttempts: 2 },
      { name: 'b', failOn: 'always' },
    ],
    traceOf(),
  );
  engine.register(saga);
  watchStuck(m, log, () => engine.names);
  const out = await engine.execute(saga, { n: 1 });
  assert.equal(out.status, 'stuck');
  assert.equal(await value(m, 'apex_saga_finished_total', { saga: 'st', outcome: 'stuck' }), 1);
  assert.equal(await value(m, 'apex_saga_compensations_total', { saga: 'st', step: 'a', outcome: 'failed' }), 2);
  assert.equal(await value(m, 'apex_saga_step_retries_total', { saga: 'st', step: 'a', phase: 'compensate' }), 1);
  const text = await m.text(); // runs the scrape hooks
  assert.match(text, /^apex_sagas_stuck\{saga="st"\} 1$/m);
});

test('the consistency window is measured from the pending step to the commit step of the same saga', async () => {
  const m = new ApexMetrics();
  let now = 1_000;
  const hooks = sagaMetricHooks(m, { now: () => now });
  const ev = (sagaId: string, step: string) => ({ sagaId, saga: 'ingest', version: 1, step, attempt: 1, ok: true, durationMs: 1 });
  hooks.onStepEnd?.(ev('x', 'postgres_pending'));
  now += 800;
  hooks.onStepEnd?.(ev('y', 'postgres_pending'));
  hooks.onStepEnd?.(ev('x', 'postgres_commit'));
  hooks.onStepEnd?.(ev('z', 'postgres_commit')); // opened elsewhere (resumed): not measured
  const text = await m.text();
  assert.match(text, /^apex_consistency_window_seconds_count\{saga="ingest"\} 1$/m);
  assert.match(text, /^apex_consistency_window_seconds_sum\{saga="ingest"\} 0\.8$/m);
});

test('store wrapper: latency by store, operation and outcome; fenced writes counted; results and errors pass through', async () => {
  const m = new ApexMetrics();
  const fake = {
    name: 'neo4j',
    backend: 'fake',
    writeVersion: async () => 'written',
    removeVersion: async () => {
      throw new StoreError('neo4j', 'STORE_FENCED', 'stale token');
    },
    listDocIds: async () => {
      throw new StoreError('neo4j', 'STORE_TRANSIENT', 'down');
    },
  };
  const calls: string[] = [];
  const stores = instrumentStores(
    { postgres: { name: 'postgres' }, neo4j: fake, qdrant: { name: 'qdrant' }, redis: { name: 'redis' } } as unknown as StoreSet,
    m,
    (c) => calls.push(`${c.operation}:${c.sagaId}:${c.fencingToken}`),
  );
  const g = stores.neo4j as unknown as typeof fake;
  assert.equal(g.name, 'neo4j');
  assert.equal(await g.writeVersion(), 'written');
  await assert.rejects(g.removeVersion(), /stale token/);
  await assert.rejects(g.listDocIds(), /down/);
  await (g.writeVersion as (...a: unknown[]) => Promise<string>)({}, { sagaId: 's1', fencingToken: 3 });
  assert.equal(
    await value(m, 'apex_store_request_duration_seconds', { store: 'neo4j', operation: 'writeVersion', outcome: 'ok', le: '+Inf' }),
    2,
  );
  assert.equal(
    await value(m, 'apex_store_request_duration_seconds', { store: 'neo4j', operation: 'removeVersion', outcome: 'fenced', le: '+Inf' }),
    1,
  );
  assert.equal(
    await value(m, 'apex_store_request_duration_seconds', { store: 'neo4j', operation: 'listDocIds', outcome: 'error', le: '+Inf' }),
    1,
  );
  assert.equal(await value(m, 'apex_store_fenced_writes_total', { store: 'neo4j' }), 1);
  assert.deepEqual(calls, ['writeVersion:s1:3']);
});

test('drift gauge: violation counts by kind from a verify report, zero for clean kinds', async () => {
  const m = new ApexMetrics();
  const v = (kind: 'orphan_data' | 'not_final') => ({ kind, store: 'neo4j' as const, docId: 'd', detail: '' });
  recordVerify(m, { violations: [v('orphan_data'), v('orphan_data'), v('not_final')] }, 5_000);
  assert.equal(await value(m, 'apex_drift_violations', { kind: 'orphan_data' }), 2);
  assert.equal(await value(m, 'apex_drift_violations', { kind: 'not_final' }), 1);
  assert.equal(await value(m, 'apex_drift_violations', { kind: 'cache_stale' }), 0);
  assert.equal(await value(m, 'apex_verify_last_run_timestamp_seconds', {}), 5);
});

test('/metrics serves the text format on 127.0.0.1; other paths are 404', async () => {
  const m = new ApexMetrics();
  m.sagasStarted.inc({ saga: 'x', resumed: 'false' });
  const server = await serveMetrics(m, { port: 0 });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(server.url);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(await res.text(), /^apex_saga_started_total\{saga="x",resumed="false"\} 1$/m);
    assert.equal((await fetch(server.url.replace('/metrics', '/other'))).status, 404);
  } finally {
    await server.close();
  }
});
