#!/usr/bin/env node
// Runs the test groups named on the command line (unit, conformance, integration, crash, e2e)
// with Node's own test runner, and closes with one line the CI reads: "N passed, N failed, N skipped".
// Usage: node scripts/run-tests.mjs unit conformance ...   (no group = all groups)
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, mkdtempSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const ALL = ['unit', 'conformance', 'integration', 'crash', 'e2e'];
const groups = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const only = process.env.TEST_ONLY; // substring filter on file paths, for local runs

function findTests(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...findTests(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const totals = { pass: 0, fail: 0, skipped: 0 };
const tmp = mkdtempSync(join(tmpdir(), 'apex-tests-'));
for (const group of groups.length ? groups : ALL) {
  const files = findTests(join('test', group)).filter((f) => !only || f.includes(only));
  if (files.length === 0) continue;
  console.log(`\n=== ${group}: ${files.length} file(s) ===`);
  const tap = join(tmp, `${group}.tap`);
  // Unit tests run files in parallel; groups that share real servers run one file at a time.
  const concurrency = group === 'unit' ? '2' : '1';
  const res = spawnSync(process.execPath, [
    '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], { stdio: 'inherit', env: { ...process.env, APEX_TEST_GROUP: group } });
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const num = (k) => Number(/^# (\w+) (\d+)$/m.test(text) ? (text.match(new RegExp(`^# ${k} (\\d+)$`, 'm'))?.[1] ?? 0) : 0);
  const g = { pass: num('pass'), fail: num('fail'), skipped: num('skipped') + num('todo') };
  if (res.status !== 0 && g.fail === 0) g.fail = 1; // a crashed runner is a failure, never a silent pass
  console.log(`--- ${group}: ${g.pass} passed, ${g.fail} failed, ${g.skipped} skipped`);
  for (const k of Object.keys(totals)) totals[k] += g[k];
}
console.log(`\nTotal: ${totals.pass} passed, ${totals.fail} failed, ${totals.skipped} skipped`);
console.log(`${totals.pass} passed, ${totals.fail} failed`);
process.exit(totals.fail > 0 || totals.pass === 0 ? 1 : 0);
