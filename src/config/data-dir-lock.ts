// The embedded profile's data directory belongs to one process at a time. PGlite (and the SQLite
// stand-ins' single-writer assumptions) are not safe for two processes: two `apex-memory ingest`
// runs on one `.apex/` would each believe they own the stores and leave them disagreeing. So every
// command that opens an embedded store first takes `<dataDir>/LOCK`, created exclusively, holding
// the owner's pid, host and process start time. A second process refuses with a message naming
// the holder. A lock whose holder died (SIGKILL leaves the file behind) is detected — same host,
// and that pid is gone or is now another process (start time differs) — and taken over.
import { markError } from '../lib/errors.js';
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface LockOwner {
  pid: number;
  host: string;
  /** Process start time (Linux: clock ticks since boot), to tell a reused pid from the holder. */
  start: string | null;
  command: string;
  since: string;
}

export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  readonly retryable = false;
  readonly owner: LockOwner | undefined;
  constructor(dir: string, owner: LockOwner | undefined) {
    const who = owner ? `process ${owner.pid} on ${owner.host} (${owner.command}, since ${owner.since})` : 'another process';
    super(
      `the data directory ${dir} is in use by ${who}; the embedded stores allow one process at a time: wait for it to finish, or use another --data-dir`,
    );
    this.name = 'DataDirLockedError';
    this.owner = owner;
    markError(this);
  }
}

/** This process's start time from /proc (null where there is no /proc). */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null; // field 22 of the whole line: starttime
  } catch {
    return null;
  }
}

function alive(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell from here: assume it lives
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
  if (processState(owner.pid) === 'Z') return false; // exited, not yet reaped by its parent
  const start = processStart(owner.pid);
  return owner.start === null || start === null || start === owner.start;
}

/** The state letter of /proc/<pid>/stat (R, S, D, Z, ...), or null. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.host !== 'string') return undefined;
    return {
      pid: parsed.pid,
      host: parsed.host,
      start: parsed.start ?? null,
      command: String(parsed.command ?? '?'),
      since: String(parsed.since ?? '?'),
    };
  } catch {
    return undefined;
  }
}

export interface DataDirLock {
  readonly path: string;
  release(): void;
}

/** Takes the data directory's lock or throws DataDirLockedError. */
export function lockDataDir(dir: string, command: string = process.argv.slice(2, 3).join(' ') || 'apex-memory'): DataDirLock {
  const path = join(dir, 'LOCK');
  const me: LockOwner = { pid: process.pid, host: hostname(), start: processStart(process.pid), command, since: new Date().toISOString() };
  const text = JSON.stringify(me);
  for (let tries = 0; tries < 20; tries++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      return lockHandle(path, text);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    const owner = readOwner(path);
    if (owner === undefined) {
      // Being written right now, or torn by a crash mid-write: look again shortly, then take it.
      if (tries < 10) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
        continue;
      }
    } else if (alive(owner)) {
      throw new DataDirLockedError(dir, owner);
    }
    removeStale(path, owner);
  }
  throw new DataDirLockedError(dir, readOwner(path));
}

/**
 * Removes a dead holder's lock. Several processes may find it stale at once: a short-lived
 * `LOCK.takeover` file (created exclusively) lets one of them re-check and remove it, so nobody
 * removes a fresh lock that another taker has just created.
 */
function removeStale(path: string, seen: LockOwner | undefined): void {
  const guard = `${path}.takeover`;
  try {
    closeSync(openSync(guard, 'wx'));
  } catch {
    try {
      if (Date.now() - statSync(guard).mtimeMs > 5_000) unlinkSync(guard); // its taker died mid-takeover
    } catch {
      // gone already
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    return;
  }
  try {
    const now = readOwner(path);
    const same =
      seen === undefined
        ? now === undefined
        : now !== undefined && now.pid === seen.pid && now.start === seen.start && now.since === seen.since;
    if (same) unlinkSync(path);
  } catch {
    // removed by its owner meanwhile
  } finally {
    unlinkSync(guard);
  }
}

function lockHandle(path: string, text: string): DataDirLock {
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.removeListener('exit', release);
    try {
      if (readFileSync(path, 'utf8') === text) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return { path, release };
}
