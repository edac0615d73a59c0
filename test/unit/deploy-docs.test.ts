// docs/observability.md lists every metric, recording rule, alert and dashboard panel: a new one
// that is not documented fails here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { ApexMetrics } from '../../src/metrics/registry.js';
import { DASHBOARD_PATH } from '../../scripts/grafana-dashboard.js';

const ROOT = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(ROOT, 'docs/observability.md'), 'utf8');
type Rules = { groups: Array<{ rules: Array<{ record?: string; alert?: string }> }> };
const rules = (f: string) => (parse(readFileSync(join(ROOT, 'deploy/prometheus', f), 'utf8')) as Rules).groups.flatMap((g) => g.rules);

test('every metric, recording rule, alert and panel is in docs/observability.md', async () => {
  const names = (await new ApexMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
  assert.ok(names.length >= 20);
  for (const n of names) assert.ok(doc.includes(`\`${n}\``), `metric ${n}`);
  for (const r of rules('rules.yml')) {
    const record = r.record as string;
    const short = record.replace(/^apex:saga_duration_seconds:/, ':');
    assert.ok(doc.includes(`\`${record}\``) || doc.includes(`\`${short}\``), `recording rule ${record}`);
  }
  for (const a of rules('alerts.yml')) assert.ok(doc.includes(`\`${a.alert as string}\``), `alert ${a.alert}`);
  const panels = (JSON.parse(readFileSync(DASHBOARD_PATH, 'utf8')) as { panels: Array<{ type: string; title: string }> }).panels.filter(
    (p) => p.type !== 'row',
  );
  for (const p of panels) assert.ok(doc.includes(`| ${p.title} |`), `panel ${p.title}`);
});
