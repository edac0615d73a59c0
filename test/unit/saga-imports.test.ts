// The engine is a product on its own: src/saga imports nothing outside itself (node: built-ins
// excepted). This test fails on any import that leaves the folder or names a package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '../../src/saga');

test('src/saga imports only its own files and node: built-ins', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 8, 'the engine files were found');
  const bad: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? '';
      const ok = (spec.startsWith('./') && !spec.includes('..')) || spec.startsWith('node:');
      if (!ok) bad.push(`${f}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});
