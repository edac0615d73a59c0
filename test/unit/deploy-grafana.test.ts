// The Grafana dashboard is generated from code (scripts/grafana-dashboard.ts); the committed JSON
// must be exactly what the generator produces, and every query must name metrics that exist:
// exported by ApexMetrics or recorded by deploy/prometheus/rules.yml.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { ApexMetrics } from '../../src/metrics/registry.js';
import { DASHBOARD_PATH, DATASOURCE, dashboardJson } from '../../scripts/grafana-dashboard.js';
import { dashboardQueries, type Panel } from '../support/dashboard-queries.js';

const DEPLOY = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy');

test('the committed dashboard JSON is what scripts/grafana-dashboard.ts generates', () => {
  assert.equal(readFileSync(DASHBOARD_PATH, 'utf8'), dashboardJson(), 'run: node --import tsx scripts/grafana-dashboard.ts');
});

test('every dashboard query names only exported metrics or recording rules, through the provisioned datasource', async () => {
  const exported = new Set<string>();
  for (const m of await new ApexMetrics().registry.getMetricsAsJSON()) {
    const suffixes = String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const s of suffixes) exported.add(`${m.name}${s}`);
  }
  const rules = parse(readFileSync(join(DEPLOY, 'prometheus/rules.yml'), 'utf8')) as {
    groups: Array<{ rules: Array<{ record: string }> }>;
  };
  for (const r of rules.groups.flatMap((g) => g.rules)) exported.add(r.record);
  const queries = dashboardQueries();
  assert.ok(queries.length >= 20, `${queries.length} queries`);
  for (const q of queries) {
    const names = q.expr.match(/\b(apex[:_][a-z0-9_:]+)/g) ?? [];
    assert.ok(names.length > 0, `${q.panel}: ${q.expr}`);
    for (const n of names) assert.ok(exported.has(n), `${q.panel}: unknown metric ${n}`);
  }
  const ds = parse(readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8')) as {
    datasources: Array<{ uid: string }>;
  };
  assert.equal(ds.datasources[0]?.uid, DATASOURCE.uid);
});

test('the dashboard draws the seed targets as threshold lines', () => {
  const d = JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as {
    panels: Array<Panel & { fieldConfig?: { defaults?: { thresholds?: { steps: Array<{ value: number | null }> } } } }>;
  };
  const lines = (title: string): Array<number | null> =>
    d.panels
      .find((p) => p.type === 'timeseries' && p.title.startsWith(title))
      ?.fieldConfig?.defaults?.thresholds?.steps.map((s) => s.value) ?? [];
  assert.deepEqual(lines('Success rate'), [null, 0.995]);
  assert.deepEqual(lines('Compensation rate'), [null, 0.005]);
  assert.deepEqual(lines('Saga latency'), [null, 1, 2]);
  assert.deepEqual(lines('Consistency window'), [null, 1]);
  assert.ok(existsSync(join(DEPLOY, 'grafana/provisioning/dashboards/apex-memory.yml')));
});
