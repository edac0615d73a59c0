// How the CLI process ends. Writes to a pipe are asynchronous in Node: what the pipe has not taken
// yet waits in the stream's buffer, and process.exit() drops it. `apex-memory verify --json | wc -c`
// printed 65536 (one pipe buffer) for a 66,301-byte document. So the exit code is set first, then
// stdout and stderr are drained, and only then does the process exit (explicitly, so that a handle
// left open by a driver can never keep a finished command alive).

/** Resolves once everything written to `stream` so far has been handed to the OS, or the reader is gone. */
export function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableEnded || stream.writableLength === 0) {
      resolve();
      return;
    }
    // Writes complete in order: the callback of this empty write runs after all earlier ones
    // (with an error instead when the stream fails, e.g. EPIPE; either way there is no more to wait for).
    stream.write('', () => resolve());
  });
}

/**
 * A reader that stops early (`apex-memory sagas list --json | head -c 100`) makes further writes
 * fail with EPIPE; that is the reader's choice, not a crash of ours. Other stream errors are left
 * alone: they still surface as uncaught errors.
 */
export function ignoreBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
}

/** Sets the exit code, waits until stdout and stderr are drained, then exits with that code. */
export async function exitWhenFlushed(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}

/** The process entry (bin/apex-memory.mjs, `node src/cli/main.ts`): run, drain, exit. */
export async function runAndExit(run: () => Promise<number>): Promise<never> {
  ignoreBrokenPipe();
  return exitWhenFlushed(await run());
}
