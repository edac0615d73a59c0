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

function compiledIsFresh() {
  if (!existsSync(compiled)) return false;
  const srcDir = join(root, 'src');
  return !existsSync(srcDir) || statSync(compiled).mtimeMs >= newestMtime(srcDir);
}

let entry;
if (compiledIsFresh()) {
  entry = pathToFileURL(compiled).href;
} else {
  const { register } = await import('tsx/esm/api');
  register();
  entry = pathToFileURL(join(root, 'src', 'cli', 'main.ts')).href;
}
// Not process.exit(await main(...)): exiting right after a large write cuts piped output at 64 KiB.
const { main, runAndExit } = await import(entry);
await runAndExit(() => main(process.argv));
