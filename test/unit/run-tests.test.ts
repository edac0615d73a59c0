// scripts/run-tests.mjs guards the CI's one line: a group without test files fails, TEST_ONLY is
// refused under CI=true, the closing line carries skipped and cancelled counts, and the "beside"
// and "early" markers do what they say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/run-tests.mjs');
const NODE_MODULES = resolve(import.meta.dirname, '../../node_modules');

function run(cwd: string, args: string[], env: Record<string, string> = {}): { code: number | null; out: string } {
  const base = { ...process.env };
  delete base.TEST_ONLY;
  delete base.CI;
  delete base.NODE_TEST_CONTEXT; // else the inner runner thinks it is nested in this test and runs nothing
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd, env: { ...base, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'apex-run-tests-'));
  symlinkSync(NODE_MODULES, join(dir, 'node_modules'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

void test('a group with no test files fails the run', () => {
  const dir = project({});
  try {
    const r = run(dir, ['crash']);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /no test files under test\/crash/);
    assert.match(r.out, /^cancelled: 0 \(counted as failed\)\n0 passed, 1 failed, 0 skipped$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('the closing line counts passed, failed and skipped tests', () => {
  const dir = project({
    'test/unit/a.test.ts': "import { test } from 'node:test';\ntest('ok', () => {});\ntest('skipped', { skip: 'reason' }, () => {});\n",
  });
  try {
    const r = run(dir, ['unit']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^cancelled: 0 \(counted as failed\)\n1 passed, 0 failed, 1 skipped$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('TEST_ONLY is refused under CI=true', () => {
  const r = run(process.cwd(), ['unit'], { CI: 'true', TEST_ONLY: 'qdrant' });
  assert.equal(r.code, 2, r.out);
  assert.match(r.out, /TEST_ONLY is set under CI=true/);
});

// Two files that can only pass together: each writes its mark, then waits (10 s at most) for the
// other's. One after the other, the first fails; side by side, both pass.
const meetFile = (me: string, other: string): string =>
  [
    "import { test } from 'node:test';",
    "import { existsSync, writeFileSync } from 'node:fs';",
    `test('${me} meets ${other}', async () => {`,
    `  writeFileSync(process.env.MEET_DIR + '/${me}', '');`,
    '  for (let i = 0; i < 200; i++) {',
    `    if (existsSync(process.env.MEET_DIR + '/${other}')) return;`,
    '    await new Promise((r) => setTimeout(r, 50));',
    '  }',
    `  throw new Error('${other} never ran beside ${me}');`,
    '});',
    '',
  ].join('\n');

void test('a file marked "run-tests: beside" runs beside the group\'s other files; its counts and output are kept', () => {
  const dir = project({
    'test/crash/a.test.ts': meetFile('a', 'b'),
    'test/crash/b.test.ts': `// run-tests: beside\n${meetFile('b', 'a')}`,
  });
  try {
    const r = run(dir, ['crash'], { MEET_DIR: dir });
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /=== crash: 2 file\(s\) \(1 beside the others: test\/crash\/b\.test\.ts\) ===/);
    assert.match(r.out, /=== crash, beside the others: test\/crash\/b\.test\.ts ===\n[\s\S]*b meets a/);
    assert.match(r.out, /^2 passed, 0 failed, 0 skipped$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a failure beside the others fails the run; "run-tests: early" files run first', () => {
  const append = (name: string): string =>
    `import { test } from 'node:test';\nimport { appendFileSync } from 'node:fs';\ntest('${name}', () => appendFileSync(process.env.MEET_DIR + '/order', '${name}'));\n`;
  const dir = project({
    'test/crash/a.test.ts': append('a'),
    'test/crash/z.test.ts': `// run-tests: early\n${append('z')}`,
    'test/crash/x.test.ts': "// run-tests: beside\nimport { test } from 'node:test';\ntest('x', () => { throw new Error('boom'); });\n",
  });
  try {
    const r = run(dir, ['crash'], { MEET_DIR: dir });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /^2 passed, 1 failed, 0 skipped$/m);
    assert.equal(readFileSync(join(dir, 'order'), 'utf8'), 'za');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
