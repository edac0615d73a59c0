// The Prometheus rules in deploy/prometheus: `promtool check rules` and `promtool test rules`
// (Debian package prometheus, installed by scripts/obs-tools.sh in the test command), plus checks
// that every alert is tested both firing and not firing and carries a runbook line.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const PROM = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'deploy', 'prometheus');

interface RuleFile {
  groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string; annotations?: Record<string, string> }> }>;
}
interface AlertTestFile {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

const load = <T>(file: string): T => parse(readFileSync(join(PROM, file), 'utf8')) as T;

function promtool(args: string[]): { status: number | null; out: string } {
  const r = spawnSync('promtool', args, { cwd: PROM, encoding: 'utf8' });
  if (r.error) throw new Error(`promtool not runnable (${r.error.message}); run bash scripts/obs-tools.sh`);
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

test('promtool check rules: recording rules and alerts are valid', () => {
  const r = promtool(['check', 'rules', 'rules.yml', 'alerts.yml']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS: 12 rules found/);
  assert.match(r.out, /SUCCESS: 7 rules found/);
});

test('promtool test rules: every alert scenario passes', () => {
  const r = promtool(['test', 'rules', 'tests/alerts.test.yml']);
  assert.equal(r.status, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});

test('every alert is tested firing and not firing, and has a runbook line', () => {
  const alerts = load<RuleFile>('alerts.yml')
    .groups.flatMap((g) => g.rules)
    .filter((r) => r.alert !== undefined);
  const cases = load<AlertTestFile>('tests/alerts.test.yml').tests.flatMap((t) => t.alert_rule_test ?? []);
  assert.equal(alerts.length, 7);
  for (const a of alerts) {
    const name = a.alert as string;
    assert.ok(
      cases.some((c) => c.alertname === name && c.exp_alerts.length > 0),
      `${name} tested firing`,
    );
    assert.ok(
      cases.some((c) => c.alertname === name && c.exp_alerts.length === 0),
      `${name} tested not firing`,
    );
    assert.ok((a.annotations?.runbook ?? '').length > 20, `${name} has a runbook`);
  }
});

test('the rule tests can fail: a P90 threshold moved to 5 s breaks them', async () => {
  const { mkdtempSync, writeFileSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'apex-rules-'));
  try {
    mkdirSync(join(dir, 'tests'));
    writeFileSync(join(dir, 'rules.yml'), readFileSync(join(PROM, 'rules.yml')));
    writeFileSync(join(dir, 'alerts.yml'), readFileSync(join(PROM, 'alerts.yml'), 'utf8').replace('p90_5m > 2', 'p90_5m > 5'));
    writeFileSync(join(dir, 'tests', 'alerts.test.yml'), readFileSync(join(PROM, 'tests', 'alerts.test.yml')));
    const r = spawnSync('promtool', ['test', 'rules', join(dir, 'tests', 'alerts.test.yml')], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(`${r.stdout}${r.stderr}`, /ApexSagaLatencyP90High/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
