// The PGlite initdb template (src/stores/pglite/template.ts): the first new data
// directory saves it, the next one is unpacked from it, and a broken template falls back to initdb.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createPglite, templateCacheDir } from '../../src/stores/pglite/template.js';

test('new PGlite data directories come from the cached initdb template; a broken one falls back', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'apex-pglite-template-'));
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = join(root, 'cache');
  try {
    const cacheDir = templateCacheDir();
    assert.equal(cacheDir, join(root, 'cache', 'apex-memory'));
    const first = await createPglite(join(root, 'a'));
    await first.query('CREATE TABLE marker (x int)');
    await first.close();
    const [template] = readdirSync(cacheDir ?? '').filter((f) => f.endsWith('-initdb.tar.gz'));
    assert.ok(template, 'the first initdb saved a template');
    const path = join(cacheDir ?? '', template);

    const second = await createPglite(join(root, 'b'));
    assert.deepEqual((await second.query<{ n: number }>('SELECT 1 AS n')).rows, [{ n: 1 }]);
    // Unpacked from the pristine template: nothing the first database wrote after initdb.
    assert.equal((await second.query("SELECT to_regclass('marker') AS r")).rows[0]?.['r' as never], null);
    await second.close();
    assert.ok(existsSync(join(root, 'b', 'PG_VERSION')));

    writeFileSync(path, 'not a tarball');
    const third = await createPglite(join(root, 'c'));
    assert.deepEqual((await third.query<{ n: number }>('SELECT 2 AS n')).rows, [{ n: 2 }]);
    await third.close();
    assert.ok(statSync(path).size > 100_000, 'the broken template was replaced');

    // An existing data directory opens as it is (its table is still there).
    const again = await createPglite(join(root, 'a'));
    assert.notEqual((await again.query("SELECT to_regclass('marker') AS r")).rows[0]?.['r' as never], null);
    await again.close();
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
  }
});
