#!/usr/bin/env node
// Runs the test groups named on the command line (unit, conformance, integration, crash, e2e)
// with Node's own test runner, and closes with one line the CI reads, alone on its line:
//   "N passed, N failed, N skipped"
// after a line "cancelled: N" (a cancelled test counts as failed and fails the run).
// Usage: node scripts/run-tests.mjs unit conformance ...   (no group = all groups)
// TEST_ONLY=<substring> runs only matching files (local runs; refused under CI=true, where a
// filtered run must never pass for the whole suite).
// --totals-out=FILE writes this run's counts as JSON; --totals-in=FILE adds an earlier run's (the
// test command runs the unit group while the services start, then the rest: one closing line).
// Groups that share the real servers run one file at a time, with two markers (a line of the file,
// for the minutes of CI time they save; the file's own comment says why it may carry one):
//   "// run-tests: beside"  the file starts and stops servers of its own and touches no shared one:
//                           it runs beside the group's other files, its output printed after theirs;
//   "// run-tests: early"   the file has no timed bound that load can break: when the group has
//                           files marked "beside", it runs first (its own node --test run), while
//                           they load the machine.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdtempSync, existsSync, statSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const ALL = ['unit', 'conformance', 'integration', 'crash', 'e2e'];
const groups = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const flag = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const totalsOut = flag('totals-out');
const totalsIn = flag('totals-in');
const only = process.env.TEST_ONLY; // substring filter on file paths, for local runs

if (only && process.env.CI === 'true') {
  console.error('run-tests: TEST_ONLY is set under CI=true; CI runs every test. Unset TEST_ONLY.');
  process.exit(2);
}
for (const g of groups) {
  if (!ALL.includes(g)) {
    console.error(`run-tests: unknown group "${g}" (groups: ${ALL.join(', ')})`);
    process.exit(2);
  }
}

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

/** One "# <key> <n>" summary count from a TAP file (0 when absent). */
function count(tap, key) {
  const m = tap.match(new RegExp(`^# ${key} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
}

// Tests run the TypeScript sources: @apex-memory/saga (packages/saga) resolves to its src/ through
// the "apex-memory-source" export condition, never to a stale dist/. Through NODE_OPTIONS the
// condition reaches every process and worker a test starts.
const SOURCE_CONDITION = '--conditions=apex-memory-source';
const inherited = process.env.NODE_OPTIONS ?? '';
const SOURCE_CONDITION_OPTIONS = inherited.includes(SOURCE_CONDITION) ? inherited : `${inherited} ${SOURCE_CONDITION}`.trim();

const totals = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
const problems = [];
const tmp = mkdtempSync(join(tmpdir(), 'apex-tests-'));
for (const group of groups.length ? groups : ALL) {
  const all = findTests(join('test', group));
  if (all.length === 0) {
    // A group that lost its files (moved, renamed, a bad checkout) must not pass as "0 failed".
    problems.push(`group ${group}: no test files under test/${group}`);
    console.log(`\n=== ${group}: NO TEST FILES (counted as a failure) ===`);
    continue;
  }
  const files = all.filter((f) => !only || f.includes(only));
  if (files.length === 0) continue; // filtered out by TEST_ONLY
  // Unit tests run files in parallel; groups that share real servers run one file at a time, and
  // the files marked "beside" in a lane of their own next to them (see the top).
  const serial = group !== 'unit';
  const beside = serial ? files.filter((f) => marked(f, 'beside')) : [];
  const main = files.filter((f) => !beside.includes(f));
  // node --test runs the files it is given in name order: the early ones get a run of their own first.
  const early = beside.length ? main.filter((f) => marked(f, 'early')) : [];
  console.log(
    `\n=== ${group}: ${files.length} file(s)${beside.length ? ` (${beside.length} beside the others: ${beside.join(', ')})` : ''} ===`,
  );
  const besideLog = join(tmp, `${group}-beside.log`);
  const mainLane = async () => [
    await runLane(group, 'early', early, 1, 'inherit'),
    await runLane(
      group,
      'main',
      main.filter((f) => !early.includes(f)),
      serial ? 1 : 2,
      'inherit',
    ),
  ];
  const [runs, besideLane] = await Promise.all([mainLane(), runLane(group, 'beside', beside, 1, besideLog)]);
  if (besideLane) {
    console.log(`\n=== ${group}, beside the others: ${beside.join(', ')} ===`);
    process.stdout.write(readFileSync(besideLog, 'utf8'));
  }
  const g = { pass: 0, fail: 0, skipped: 0, cancelled: 0 };
  let text = '';
  for (const lane of [...runs, besideLane]) {
    if (!lane) continue;
    for (const k of Object.keys(g)) g[k] += lane.counts[k];
    text += `${lane.text}\n`;
  }
  console.log(`--- ${group}: ${g.pass} passed, ${g.fail} failed, ${g.skipped} skipped, ${g.cancelled} cancelled`);
  printSlowest(group, text);
  for (const k of Object.keys(totals)) totals[k] += g[k];
}
if (totalsIn) {
  // An earlier run's counts (its groups' output was printed before this run's).
  let earlier;
  try {
    earlier = JSON.parse(readFileSync(totalsIn, 'utf8'));
  } catch {
    earlier = {
      totals: { pass: 0, fail: 1, skipped: 0, cancelled: 0 },
      problems: [`no counts in ${totalsIn}: the earlier run did not finish`],
    };
  }
  console.log(
    `\n--- earlier (${earlier.groups?.join(', ') ?? '?'}): ${earlier.totals.pass} passed, ${earlier.totals.fail} failed, ${earlier.totals.skipped} skipped, ${earlier.totals.cancelled} cancelled`,
  );
  for (const k of Object.keys(totals)) totals[k] += earlier.totals[k] ?? 0;
  problems.push(...(earlier.problems ?? []));
}
if (only && totals.pass + totals.fail + totals.skipped + totals.cancelled === 0) problems.push(`TEST_ONLY=${only} matched no test file`);
if (totalsOut) writeFileSync(totalsOut, JSON.stringify({ groups: groups.length ? groups : ALL, totals, problems }));
for (const p of problems) console.log(`run-tests: ${p}`);
const failed = totals.fail + problems.filter((p) => !p.includes('without reporting')).length;
if (totalsOut) {
  // Not the closing line: the run that reads these counts (--totals-in) prints the one line for all.
  console.log(`\n(these counts go on into the closing line: ${totals.pass} passed here)`);
} else {
  console.log(`\ncancelled: ${totals.cancelled} (counted as failed)`);
  console.log(`${totals.pass} passed, ${failed + totals.cancelled} failed, ${totals.skipped} skipped`);
}
process.exit(failed > 0 || totals.cancelled > 0 || totals.pass === 0 ? 1 : 0);

/** Whether a test file carries the line "// run-tests: <what>" (see the top). */
function marked(file, what) {
  return new RegExp(`^// run-tests: ${what}\\b`, 'm').test(readFileSync(file, 'utf8'));
}

/**
 * One node:test run over `files` (a lane of a group): its output to this process's stdout
 * ('inherit') or to a file, its TAP to a file of its own; resolves with its counts and TAP.
 */
async function runLane(group, lane, files, concurrency, output) {
  if (files.length === 0) return undefined;
  const tap = join(tmp, `${group}-${lane}.tap`);
  const fd = output === 'inherit' ? undefined : openSync(output, 'w');
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${concurrency}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    {
      stdio: fd === undefined ? 'inherit' : ['ignore', fd, fd],
      env: { ...process.env, APEX_TEST_GROUP: group, NODE_OPTIONS: SOURCE_CONDITION_OPTIONS },
    },
  );
  const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
  if (fd !== undefined) closeSync(fd);
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const counts = {
    pass: count(text, 'pass'),
    fail: count(text, 'fail'),
    skipped: count(text, 'skipped') + count(text, 'todo'),
    cancelled: count(text, 'cancelled'),
  };
  if (code !== 0 && counts.fail === 0 && counts.cancelled === 0) {
    counts.fail = 1; // a crashed runner is a failure, never a silent pass
    problems.push(
      `group ${group}${lane === 'main' ? '' : ` (${lane})`}: the test runner exited with ${code ?? signal} without reporting a failure`,
    );
  }
  return { counts, text };
}

// The slowest top-level tests of a group, so that a CI log says where the run's minutes went.
function printSlowest(group, text) {
  const rows = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(?:not )?ok \d+ - (.*)$/.exec(lines[i] ?? '');
    if (!m) continue;
    for (let j = i + 1; j < Math.min(i + 4, lines.length); j++) {
      const d = /^ {2}duration_ms: ([\d.]+)/.exec(lines[j] ?? '');
      if (d) {
        rows.push([Number(d[1]), m[1]]);
        break;
      }
    }
  }
  rows.sort((a, b) => b[0] - a[0]);
  const total = rows.reduce((s, r) => s + r[0], 0);
  console.log(`--- ${group}: slowest tests (of ${(total / 1000).toFixed(0)} s in top-level tests)`);
  for (const [ms, name] of rows.slice(0, 12)) console.log(`    ${(ms / 1000).toFixed(1).padStart(7)} s  ${name.slice(0, 110)}`);
}
