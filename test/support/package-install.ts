// What the package-install e2e test needs: pack the workspace's packages the way `npm publish`
// would, and install the tarballs in an empty project with no network. Dependencies come from the
// local npm cache: a lockfile made from the workspace's own (its production entries, plus the two
// tarballs) lets `npm ci --offline` fetch every tarball by its integrity from ~/.npm/_cacache.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export const SAGA_DIR = join(ROOT, 'packages', 'saga');
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface PackageJson {
  name: string;
  version: string;
  license?: string;
  engines?: Record<string, string>;
  bin?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
  files?: string[];
  scripts?: Record<string, string>;
}

export function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
}

/**
 * The environment for commands run as a user would: without the "apex-memory-source" export
 * condition the test runner adds (an installed package must work without it).
 */
function userEnv(): NodeJS.ProcessEnv {
  const options = (process.env.NODE_OPTIONS ?? '').replace(/--conditions=apex-memory-source/g, '').trim();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: options };
  delete env.NODE_TEST_CONTEXT; // else a `node --test` started here reports to this runner, not to its stdout
  return env;
}

/** Runs a command to completion; throws with its output when it fails. Returns stdout. */
export function run(cmd: string, args: string[], cwd: string, timeoutMs = 300_000): string {
  const res = spawnSync(cmd, args, { cwd, env: userEnv(), encoding: 'utf8', timeout: timeoutMs });
  if (res.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${res.status ?? res.signal}\n${res.stdout}\n${res.stderr}`);
  }
  return res.stdout;
}

/** The newest modification time under `dir` (0 when absent). */
function newest(dir: string): number {
  if (!existsSync(dir)) return 0;
  let max = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    max = Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return max;
}

/**
 * Packs the engine package (its prepack builds it: small) and the main package. The main
 * package's prepack build takes over a minute; the test command has just run `npm run build`, so
 * when dist/ is newer than every source the tarball is made from it (--ignore-scripts) and the
 * prepack build is left to `npm pack` runs outside the test command.
 */
export function packAll(dest: string): { saga: string; main: string; mainBuiltByPrepack: boolean } {
  const saga = run('npm', ['pack', '--silent', '--pack-destination', dest], SAGA_DIR).trim();
  const builtAt = existsSync(join(ROOT, 'dist', 'cli', 'main.js')) ? statSync(join(ROOT, 'dist', 'cli', 'main.js')).mtimeMs : 0;
  const fresh = builtAt > 0 && builtAt >= newest(join(ROOT, 'src')) && builtAt >= newest(join(SAGA_DIR, 'src'));
  const mainArgs = ['pack', '--silent', '--pack-destination', dest, ...(fresh ? ['--ignore-scripts'] : [])];
  const main = run('npm', mainArgs, ROOT).trim();
  return { saga: join(dest, saga), main: join(dest, main), mainBuiltByPrepack: !fresh };
}

/** The file list of a tarball, without the leading "package/". */
export function tarballFiles(tarball: string, cwd: string): string[] {
  return run('tar', ['-tzf', tarball], cwd)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.replace(/^package\//, ''));
}

/**
 * Writes package.json and package-lock.json for a project depending on the given tarballs
 * (name -> path), then `npm ci --offline`. With `withMain`, the lockfile also holds the
 * production packages of the workspace's lockfile, which the main package depends on. Install
 * scripts do not run (no network for prebuilt binaries): the caller copies native builds.
 */
export function installOffline(project: string, tarballs: Record<string, string>, withMain: boolean): void {
  const deps: Record<string, string> = {};
  const packages: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(tarballs)) deps[name] = `file:${path}`;
  packages[''] = { name: 'consumer', dependencies: deps };
  if (withMain) {
    const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; link?: boolean }>;
    };
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!path.startsWith('node_modules/') || entry.dev === true || entry.link === true) continue;
      packages[path] = entry;
    }
  }
  for (const [name, path] of Object.entries(tarballs)) {
    const pkg = name === 'apex-memory' ? readPackageJson(ROOT) : readPackageJson(SAGA_DIR);
    packages[`node_modules/${name}`] = {
      version: pkg.version,
      resolved: `file:${path}`,
      license: pkg.license,
      engines: pkg.engines,
      ...(pkg.bin ? { bin: pkg.bin } : {}),
      ...(pkg.dependencies ? { dependencies: pkg.dependencies } : {}),
    };
  }
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: deps }, null, 2),
  );
  writeFileSync(
    join(project, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages }, null, 2),
  );
  run('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], project);
}

/** The first ```ts block after a README heading. */
export function readmeExample(heading: string): string {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`README.md has no heading "${heading}"`);
  const start = text.indexOf('```ts\n', at);
  const end = text.indexOf('\n```', start + 6);
  if (start < 0 || end < 0) throw new Error(`README.md has no ts block under "${heading}"`);
  return text.slice(start + 6, end + 1);
}

/** A tsconfig for a consumer project: strict, NodeNext, Node's types from the workspace. */
export function writeTsconfig(project: string, files: string[], skipLibCheck: boolean): void {
  const compilerOptions = {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    outDir: 'out',
  };
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }, null, 2));
}
