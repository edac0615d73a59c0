// A new PGlite data directory costs a full initdb (a second WebAssembly PostgreSQL instance runs
// the bootstrap): 6-16 s on a 2-core machine, most of the embedded profile's first run. Every
// initdb of one PGlite version produces the same cluster, so the first one on a machine is saved
// as a tarball (PGlite's own dumpDataDir, ~4.5 MB gzip) under the user's cache directory, and
// every later new data directory is unpacked from it (~1-3 s). The cache is only a shortcut: a
// missing, unreadable or broken template falls back to initdb, and an existing data directory is
// opened as before.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';

/** `$XDG_CACHE_HOME/apex-memory` (default `~/.cache/apex-memory`); `APEX_PGLITE_TEMPLATE=off` disables it. */
export function templateCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.APEX_PGLITE_TEMPLATE === 'off') return undefined;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'apex-memory');
}

function pgliteVersion(): string {
  const require = createRequire(import.meta.url);
  // The package's exports hide package.json; its entry point sits in <root>/dist/.
  const root = join(dirname(require.resolve('@electric-sql/pglite')), '..');
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

const isEmptyOrMissing = (dir: string): boolean => !existsSync(dir) || readdirSync(dir).length === 0;

/** Opens the PGlite data directory `dir`, creating it from the cached template when it is new. */
export async function createPglite(dir: string): Promise<PGlite> {
  const cacheDir = templateCacheDir();
  if (!cacheDir || !isEmptyOrMissing(dir)) return PGlite.create(dir);
  let template: string;
  try {
    template = join(cacheDir, `pglite-${pgliteVersion()}-initdb.tar.gz`);
  } catch {
    return PGlite.create(dir);
  }
  if (existsSync(template)) {
    try {
      return await PGlite.create(dir, { loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      // A broken template: start the directory over with initdb, and replace the template below.
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
    }
  }
  const db = await PGlite.create(dir);
  await saveTemplate(db, cacheDir, template);
  return db;
}

/** Best effort: a process that cannot write the cache still runs, only without the shortcut. */
async function saveTemplate(db: PGlite, cacheDir: string, template: string): Promise<void> {
  try {
    const tarball = Buffer.from(await (await db.dumpDataDir('gzip')).arrayBuffer());
    mkdirSync(cacheDir, { recursive: true });
    // Written beside and renamed: two first runs at once never leave a half-written template.
    const tmp = `${template}.${process.pid}.tmp`;
    writeFileSync(tmp, tarball);
    renameSync(tmp, template);
  } catch {
    // ignored on purpose (see above)
  }
}
