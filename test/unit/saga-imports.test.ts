// The engine is a product on its own: packages/saga (@apex-memory/saga) has no runtime
// dependencies and its files import only each other and node: built-ins. The app reaches it
// through one door: src/saga/index.ts (apex-memory/saga), plus the memory log and the log kit
// for src/log. These tests fail on any import that leaves the package or names another package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = join(import.meta.dirname, '../..');
const pkgDir = join(root, 'packages/saga');
const srcDir = join(pkgDir, 'src');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Every module specifier a file names: static and dynamic imports, re-exports, require. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"]([^'"]+)['"]/g)].map((m) => m[1] ?? '');
}

test('@apex-memory/saga declares no runtime dependency', () => {
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as Record<string, unknown>;
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies']) {
    const value = pkg[field];
    assert.ok(value === undefined || Object.keys(value as object).length === 0, `packages/saga/package.json: ${field} must be empty`);
  }
});

test('packages/saga/src imports only its own files and node: built-ins', () => {
  const files = tsFiles(srcDir);
  assert.ok(files.length >= 20, `the engine files were found (${files.length})`);
  const bad: string[] = [];
  for (const file of files) {
    for (const spec of specifiers(file)) {
      if (spec.startsWith('node:')) continue;
      const target = spec.startsWith('.') ? resolve(dirname(file), spec.replace(/\.js$/, '.ts')) : '';
      const inside = target !== '' && !relative(srcDir, target).startsWith('..') && existsSync(target);
      if (!inside) bad.push(`${relative(root, file)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('src/saga is only the re-export of @apex-memory/saga', () => {
  assert.deepEqual(readdirSync(join(root, 'src/saga')), ['index.ts'], 'engine code belongs in packages/saga/src');
  assert.deepEqual(specifiers(join(root, 'src/saga/index.ts')), ['@apex-memory/saga']);
});

test('the app uses the engine through src/saga (src/log also through /memory and /log-kit), never its sources', () => {
  const allowed: Record<string, RegExp> = {
    'src/saga/index.ts': /^@apex-memory\/saga$/,
    'src/log/': /^@apex-memory\/saga\/(memory|log-kit)$/,
  };
  const bad: string[] = [];
  for (const file of tsFiles(join(root, 'src'))) {
    const rel = relative(root, file);
    for (const spec of specifiers(file)) {
      const intoSources = spec.startsWith('.') && relative(srcDir, resolve(dirname(file), spec)).startsWith('..') === false;
      const named = spec.startsWith('@apex-memory/saga');
      if (!intoSources && !named) continue;
      const ok = !intoSources && Object.entries(allowed).some(([prefix, re]) => rel.startsWith(prefix) && re.test(spec));
      if (!ok) bad.push(`${rel}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});
