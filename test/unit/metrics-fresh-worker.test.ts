// Every series the Grafana dashboard, the recording rules and the alerts read exists on a fresh
// worker, before any saga ran (issue 21, item 8): a quiet system's panels show 0, not "No data",
// and rate() sees the first retry or compensation as an increase from 0. The exception is drift:
// apex_drift_violations (and the time of the last verify) stay absent until a verify ran, because
// a 0 would claim a check that never happened; the dashboard's drift panel says "never verified".
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { recordVerify } from '../../src/metrics/drift.js';
import { createObservability } from '../../src/metrics/observe.js';
import { ROOT } from '../support/cli.js';
import { dashboardQueries } from '../support/dashboard-queries.js';

const NEVER_BEFORE_VERIFY = new Set(['apex_drift_violations', 'apex_verify_last_run_timestamp_seconds']);

/** Raw metric names (not recording rules) read by the dashboard, the rules and the alerts. */
function queriedMetrics(): Set<string> {
  const exprs = dashboardQueries().map((q) => q.expr);
  for (const file of ['rules.yml', 'alerts.yml']) {
    const y = parse(readFileSync(join(ROOT, 'deploy/prometheus', file), 'utf8')) as { groups: Array<{ rules: Array<{ expr: string }> }> };
    for (const r of y.groups.flatMap((g) => g.rules)) exprs.push(String(r.expr));
  }
  const names = new Set<string>();
  for (const e of exprs) for (const n of e.match(/\bapex_[a-z0-9_]+/g) ?? []) names.add(n);
  return names;
}

test('a fresh worker exports a sample of every metric the dashboard and the rules query (drift aside)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-fresh-'));
  const obs = createObservability();
  const app = await openApp({ dataDir: dir, env: {}, embedder: new HashingEmbedder(), hooks: obs.hooks, wrapStores: obs.wrapStores });
  try {
    obs.attach(app);
    obs.metrics.heartbeat.set(Date.now() / 1000); // the worker loop sets it on every scrape
    const text = await obs.metrics.text();
    const sampled = new Set(
      text
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => /^[a-z_:0-9]+/.exec(l)?.[0] ?? ''),
    );
    const names = queriedMetrics();
    assert.ok(names.size >= 10, [...names].join(', '));
    const missing = [...names].filter((n) => !NEVER_BEFORE_VERIFY.has(n) && !sampled.has(n));
    assert.deepEqual(missing, [], `no sample on a fresh worker:\n${missing.join('\n')}`);
    for (const n of NEVER_BEFORE_VERIFY) assert.equal(sampled.has(n), false, `${n} must be absent until the first verify`);
    // The per-step zero series: every step of the ingest saga, both phases for compensatable ones.
    assert.match(text, /apex_saga_step_retries_total\{saga="ingest",step="qdrant_write",phase="run"\} 0/);
    assert.match(text, /apex_saga_step_retries_total\{saga="ingest",step="qdrant_write",phase="compensate"\} 0/);
    assert.match(text, /apex_saga_compensations_total\{saga="ingest",step="neo4j_write",outcome="failed"\} 0/);
    recordVerify(obs.metrics, { violations: [] });
    const after = await obs.metrics.text();
    assert.match(after, /apex_drift_violations\{kind="orphan_data"\} 0/);
    assert.match(after, /apex_verify_last_run_timestamp_seconds \d/);
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
