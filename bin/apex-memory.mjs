#!/usr/bin/env node
// apex-memory launcher. Runs the compiled CLI (dist/cli/main.js) when it exists and is newer than
// every file under src/; otherwise compiles on the fly with tsx, so a fresh clone works right
// after `npm ci` with no build step. Only file times are checked: startup stays fast.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'cli', 'main.js');

/** The newest modification time of any file under `dir`. */
function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

// A source checkout has src/cli (an installed package ships only dist/, bin/ and src/ui). There the
// build is fresh only when it is newer than the app's sources and the engine package's
// (packages/saga), whose dist/ the compiled app imports.
function compiledIsFresh() {
  if (!existsSync(compiled)) return false;
  if (!existsSync(join(root, 'src', 'cli'))) return true;
  const built = statSync(compiled).mtimeMs;
  const engine = join(root, 'packages', 'saga');
  const engineBuilt = join(engine, 'dist', 'index.js');
  if (!existsSync(engineBuilt)) return false;
  return built >= newestMtime(join(root, 'src')) && statSync(engineBuilt).mtimeMs >= newestMtime(join(engine, 'src'));
}

const SOURCE_CONDITION_HOOK =
  'data:text/javascript,' +
  encodeURIComponent(
    'export function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "apex-memory-source"] }); }',
  );

// The test runner (scripts/run-tests.mjs) puts the source condition in NODE_OPTIONS: then
// @apex-memory/saga resolves to its TypeScript sources even from the compiled CLI, and tsx must
// be there to load them.
const sourceCondition = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`.includes('apex-memory-source');

let entry;
if (compiledIsFresh()) {
  if (sourceCondition) (await import('tsx/esm/api')).register();
  entry = pathToFileURL(compiled).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  // From sources, @apex-memory/saga resolves to packages/saga/src through its "apex-memory-source"
  // export condition (the hook runs before tsx's and adds the condition).
  const { register: registerHooks } = await import('node:module');
  registerHooks(SOURCE_CONDITION_HOOK);
  entry = pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href;
}
// Not process.exit(await main(...)): exiting right after a large write cuts piped output at 64 KiB.
const { main, runAndExit } = await import(entry);
await runAndExit(() => main(process.argv));
