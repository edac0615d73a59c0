// The packages as a user gets them: `npm pack` both (the engine's prepack builds it), check what
// each tarball ships, install them with no network in empty projects, type-check and run there.
// 1. @apex-memory/saga alone: nothing else is installed (no database driver); a TypeScript user
//    runs the /testing conformance suite against the /memory log, and an engine saga.
// 2. apex-memory + @apex-memory/saga: the README's "Using the saga engine on its own" example, as
//    written, with the SQLite log; and `npx apex-memory --version`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';
import {
  installOffline,
  packAll,
  readmeExample,
  readPackageJson,
  run,
  SAGA_DIR,
  tarballFiles,
  TSC,
  writeTsconfig,
} from '../support/package-install.js';

const ENGINE_ONLY = `import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defineSaga, SagaEngine } from '@apex-memory/saga';
import { MemorySagaLog } from '@apex-memory/saga/memory';
import { sagaLogConformance } from '@apex-memory/saga/testing';

let now = 1_700_000_000_000;
sagaLogConformance('memory', async () => new MemorySagaLog({ now: () => now }), {
  test: { describe, it },
  advance: (ms) => { now += ms; },
  shortLeaseMs: 1_000,
});

it('an engine saga compensates a failed step', async () => {
  const undone: string[] = [];
  const saga = defineSaga<{ n: number }>('installed', 1)
    .step({ name: 'a', run: async (ctx) => ({ twice: ctx.input.n * 2 }), compensate: async (ctx) => { undone.push(ctx.idempotencyKey); } })
    .step({ name: 'b', retry: { maxAttempts: 1 }, run: async (ctx) => { throw new Error(\`no \${ctx.results.a.twice}\`); } })
    .build();
  const log = new MemorySagaLog();
  const engine = new SagaEngine({ log });
  const outcome = await engine.execute(saga, { n: 21 }, { sagaId: 's1' });
  assert.equal(outcome.status, 'compensated');
  assert.equal(outcome.reason?.message, 'no 42');
  assert.deepEqual(undone, ['s1/a']);
  await engine.close();
  await log.close();
});
`;

void describe('npm pack and install in an empty project, offline', () => {
  let dir: string;
  let saga: string;
  let main: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'apex-pack-'));
    const t0 = Date.now();
    const packed = packAll(dir);
    saga = packed.saga;
    main = packed.main;
    console.log(`packed in ${((Date.now() - t0) / 1000).toFixed(1)} s (main package built by prepack: ${packed.mainBuiltByPrepack})`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the tarballs ship built code with types, and no sources, tests or benches', () => {
    const sagaFiles = tarballFiles(saga, dir);
    const mainFiles = tarballFiles(main, dir);
    for (const [files, pkgDir] of [
      [sagaFiles, SAGA_DIR],
      [mainFiles, ROOT],
    ] as const) {
      const pkg = readPackageJson(pkgDir);
      assert.ok(pkg.scripts?.prepack, `${pkg.name} builds on prepack`);
      for (const [entry, target] of Object.entries(pkg.exports ?? {})) {
        if (typeof target === 'string') continue; // ./package.json
        const { types, default: js } = target as { types?: string; default?: string };
        assert.ok(types && files.includes(types.replace('./', '')), `${pkg.name} ${entry}: types ${types} is in the tarball`);
        assert.ok(js && files.includes(js.replace('./', '')), `${pkg.name} ${entry}: ${js} is in the tarball`);
      }
      assert.deepEqual(
        files.filter((f) => /^(test|bench|examples|scripts|packages)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'))),
        [],
        `${pkg.name} ships no sources or tests`,
      );
    }
    assert.ok(
      mainFiles.includes('bin/apex-memory.mjs') && mainFiles.includes('src/ui/index.html'),
      'the launcher and the dashboard files ship',
    );
  });

  test('@apex-memory/saga alone installs nothing else, type-checks and runs its /testing suite', () => {
    const project = join(dir, 'engine-only');
    mkdirSync(project);
    installOffline(project, { '@apex-memory/saga': saga }, false);
    const installed = readdirSync(join(project, 'node_modules')).filter((n) => !n.startsWith('.'));
    assert.deepEqual(installed, ['@apex-memory'], 'no package but the engine (no database driver)');
    assert.deepEqual(readdirSync(join(project, 'node_modules', '@apex-memory')), ['saga']);
    writeFileSync(join(project, 'engine.test.ts'), ENGINE_ONLY);
    writeTsconfig(project, ['engine.test.ts'], false); // the engine's own .d.ts are checked too
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    const tap = run(process.execPath, ['--test', '--test-reporter=tap', 'out/engine.test.js'], project);
    const pass = Number(/^# pass (\d+)$/m.exec(tap)?.[1] ?? 0);
    assert.match(tap, /^# fail 0$/m);
    assert.ok(pass >= 25, `the conformance suite and the saga ran (${pass} passed)`);
    assert.match(tap, /^ok \d+ - SagaLogBackend conformance: memory$/m);
    assert.match(tap, /^ok \d+ - an engine saga compensates a failed step$/m);
  });

  test("README's engine example runs as written with the SQLite log; npx apex-memory --version", () => {
    const project = join(dir, 'full');
    mkdirSync(project);
    installOffline(project, { '@apex-memory/saga': saga, 'apex-memory': main }, true);
    // No install scripts ran (no network for a prebuilt binary): reuse the workspace's native build.
    cpSync(join(ROOT, 'node_modules', 'better-sqlite3', 'build'), join(project, 'node_modules', 'better-sqlite3', 'build'), {
      recursive: true,
    });
    assert.deepEqual(readdirSync(join(project, 'node_modules', '@apex-memory')), ['saga'], 'one copy of the engine');
    writeFileSync(join(project, 'example.ts'), readmeExample('## Using the saga engine on its own'));
    writeTsconfig(project, ['example.ts'], true);
    run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    const out = run(process.execPath, ['out/example.js'], project);
    assert.equal(out, "compensated card declined\ncompleted [ 'book: 1200 cents' ]\n");
    const version = run('npx', ['--offline', '--no-install', 'apex-memory', '--version'], project).trim();
    assert.equal(version, readPackageJson(ROOT).version);
  });
});
