// Acceptance (issue 11): a REAL Prometheus (Debian package) scrapes a REAL `apex-memory worker
// --metrics-port` while ingest sagas run with injected store failures (APEX_INJECT_FAULTS ->
// src/stores/faults.ts). Through Prometheus's HTTP API: every recording rule and every query of the
// Grafana dashboard returns data, histogram_quantile(0.9, ...) of the saga histogram is a number,
// and the compensation rate is exactly what was injected.
//
// Embedded profile (no shared server is touched): the worker owns the data directory; this test
// queues the sagas in the worker's SQLite saga log, paced so that Prometheus sees them run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { Embedder } from '../../src/ingest/embedder.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import { ingestSaga } from '../../src/ingest/sagas/ingest-saga.js';
import { validateDocument } from '../../src/ingest/schema.js';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import { SagaEngine } from '../../src/saga/index.js';
import { mulberry32 } from '../../src/lib/random.js';
import type { StoreSet } from '../../src/stores/types.js';
import { BIN, ROOT, embeddedEnv } from '../support/cli.js';
import { dashboardQueries, expandVariables } from '../support/dashboard-queries.js';
import { PROM_DIR, freePort, startPrometheus } from '../support/prometheus.js';
import { allSagas } from '../support/log-pages.js';

const SAGAS = 60;
const SEED = Number(process.env.APEX_TEST_SEED ?? 1107);
const RATE = 0.25;
const FAULTS = {
  // Permanent failures of the Neo4j write: each one compensates exactly one saga.
  neo4j: {
    random: { seed: SEED, rate: RATE, methods: ['writeVersion'], when: 'before', retryableShare: 0 },
    // Two transient failures of the compensation itself: failed compensations, then retried.
    failOn: [{ method: 'removeVersion', times: 2, when: 'before', retryable: true }],
  },
  // Three transient Qdrant failures (retries; a step has 4 attempts, so none compensates).
  qdrant: { failOn: [{ method: 'writeVersion', skip: 1, times: 3, when: 'before', retryable: true }] },
};

/** How many of the first `calls` writeVersion calls the seeded schedule fails (withFaults' draws). */
function expectedFaults(calls: number): number {
  const rand = mulberry32(SEED);
  let n = 0;
  for (let i = 0; i < calls; i++) {
    if (rand() < RATE) {
      n++;
      rand(); // the retryable draw
    }
  }
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'a real Prometheus scraping a real worker: rules, dashboard queries, P90 and the compensation rate',
  { timeout: 120_000 },
  async (t) => {
    console.log(`seed ${SEED} (replay: APEX_TEST_SEED=${SEED})`);
    const dir = mkdtempSync(join(tmpdir(), 'apex-prom-'));
    const logPath = join(dir, 'saga-log.db');
    const metricsPort = await freePort();
    const worker = spawn(
      process.execPath,
      [
        BIN,
        '--data-dir',
        join(dir, 'data'),
        'worker',
        '--metrics-port',
        String(metricsPort),
        '--verify-every',
        '1',
        '--poll-ms',
        '50',
        '--concurrency',
        '8',
        '--status-ms',
        '60000',
        '--grace-ms',
        '2000',
      ],
      {
        cwd: ROOT,
        env: embeddedEnv({ SAGA_LOG_URL: logPath, APEX_INJECT_FAULTS: JSON.stringify(FAULTS) }),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
    worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const workerExit = new Promise<number | null>((r) => worker.once('exit', (code) => r(code)));
    const cleanup: Array<() => Promise<void> | void> = [
      () => rmSync(dir, { recursive: true, force: true }),
      () => void (worker.exitCode === null && worker.kill('SIGKILL')),
    ];
    t.after(async () => {
      for (const step of cleanup.reverse()) await step();
    });

    // The worker is up once it logs its metrics URL (JSON lines on stdout).
    for (const deadline = Date.now() + 45_000; !out.includes('"metricsUrl"'); ) {
      if (worker.exitCode !== null || Date.now() > deadline) assert.fail(`worker did not start:\n${out}`);
      await sleep(100);
    }
    const prom = await startPrometheus(dir, [`127.0.0.1:${metricsPort}`]);
    cleanup.push(() => prom.stop());

    // Queue the sagas as `ingest --submit` would, a few at a time, while Prometheus scrapes.
    const log = new SqliteSagaLog(logPath);
    cleanup.push(() => log.close());
    const submitter = new SagaEngine({ log, owner: 'test-submitter', heartbeatMs: 0 });
    const def = ingestSaga({ stores: {} as StoreSet, embedder: {} as Embedder }, 'default');
    // Prometheus must hold a sample of the zero-initialised counters before any saga ends, so that
    // rate() counts every saga (and the outcomes share one extrapolation: their ratio is exact).
    for (
      const deadline = Date.now() + 20_000;
      (await prom.query('apex_saga_finished_total{saga="ingest",outcome="compensated"} == 0')).length === 0;

    ) {
      if (Date.now() > deadline) assert.fail(`Prometheus never scraped the worker:\n${prom.output()}`);
      await sleep(200);
    }
    for (let i = 0; i < SAGAS; i++) {
      const doc = validateDocument({
        id: `doc-${i}`,
        title: `Document ${i}`,
        text: `Document number ${i} mentions Alice and Bob in Paris.`,
      });
      await submitter.submit(def, { doc, sha: contentSha256(doc), previousSha: null });
      if (i % 6 === 5) await sleep(700);
    }
    const ended = async (): Promise<{ completed: number; compensated: number; other: number }> => {
      const all = await allSagas(log);
      const completed = all.filter((s) => s.status === 'completed').length;
      const compensated = all.filter((s) => s.status === 'compensated').length;
      return { completed, compensated, other: all.length - completed - compensated };
    };
    let counts = await ended();
    for (const deadline = Date.now() + 45_000; counts.completed + counts.compensated < SAGAS; counts = await ended()) {
      if (Date.now() > deadline) assert.fail(`sagas did not finish: ${JSON.stringify(counts)}\n${out}`);
      await sleep(250);
    }
    const injected = expectedFaults(SAGAS);
    assert.equal(counts.compensated, injected, 'one compensated saga per injected Neo4j failure');
    assert.ok(injected > 0 && injected < SAGAS);
    await sleep(3_500); // the last scrapes and rule evaluations

    // Every recording rule returns data.
    const rules = parse(readFileSync(join(PROM_DIR, 'rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ record: string }> }> };
    const records = rules.groups.flatMap((g) => g.rules.map((r) => r.record));
    assert.equal(records.length, 12);
    for (const record of records) assert.ok((await prom.query(record)).length > 0, `recording rule ${record} has no data`);

    // Every query of the Grafana dashboard returns data (variables expanded as Grafana would for "All").
    const queries = dashboardQueries();
    assert.ok(queries.length >= 20);
    const empty: string[] = [];
    for (const q of queries) if ((await prom.query(expandVariables(q.expr))).length === 0) empty.push(`${q.panel}: ${q.expr}`);
    assert.deepEqual(empty, [], 'dashboard queries without data');

    // P90 of the saga histogram is a number.
    const p90 = await prom.query('histogram_quantile(0.9, sum by (le) (rate(apex_saga_duration_seconds_bucket[1m])))');
    const p90Value = Number(p90[0]?.value[1]);
    assert.ok(Number.isFinite(p90Value) && p90Value > 0, `P90 ${p90[0]?.value[1]}`);

    // The compensation rate is what was injected: exactly from the counters, and from the recording rule.
    const [compensated] = await prom.query(
      'sum(apex_saga_finished_total{saga="ingest",outcome="compensated"}) / sum(apex_saga_finished_total{saga="ingest"})',
    );
    assert.equal(Number(compensated?.value[1]), injected / SAGAS);
    const [ratio] = await prom.query('apex:saga_compensation_ratio:rate5m{saga="ingest"}');
    assert.ok(
      Math.abs(Number(ratio?.value[1]) - injected / SAGAS) < 1e-9,
      `recording rule ${ratio?.value[1]} vs injected ${injected}/${SAGAS}`,
    );
    const [retries] = await prom.query('sum(apex_saga_step_retries_total{step="qdrant_write"})');
    assert.equal(Number(retries?.value[1]), 3, 'one retry per transient Qdrant failure');
    const [failedComp] = await prom.query('sum(apex_saga_compensations_total{step="neo4j_write",outcome="failed"})');
    assert.equal(Number(failedComp?.value[1]), 2, 'the two injected compensation failures');

    worker.kill('SIGTERM');
    assert.equal(await workerExit, 0, out);
    assert.doesNotMatch(out, /password=|:\/\/[^/\s:@]+:[^@\s/*]+@/i, 'no credentials in the worker output');
  },
);
