// Owner ids that say where a saga's owner runs: `<host>:<pid>:<start>:<random>`, where `start` is
// the process start time (Linux: clock ticks since boot, from /proc/<pid>/stat). Why: a process on
// the same host can then tell that an owner is dead (its pid is gone, or the pid now belongs to a
// process that started at another time) and take its sagas at once instead of waiting out the
// lease. Owners on other hosts, and ids in any other format, are never judged dead here.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

const HOST = hostname().replace(/:/g, '_');

/** Start time of a process as written in /proc/<pid>/stat (field 22), or undefined. */
function startTicks(pid: number | 'self'): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 is the 20th after field 2
  } catch {
    return undefined;
  }
}

const SELF_START = startTicks('self') ?? String(Math.round(Date.now() - process.uptime() * 1000));

/** A fresh owner id for an engine in this process. */
export function processOwnerId(): string {
  return `${HOST}:${process.pid}:${SELF_START}:${globalThis.crypto.randomUUID().slice(0, 6)}`;
}

export interface OwnerPlace {
  host: string;
  pid: number;
  /** undefined for the older `<host>:<pid>:<random>` form. */
  start: string | undefined;
}

export function parseOwner(owner: string): OwnerPlace | undefined {
  const parts = owner.split(':');
  if (parts.length !== 3 && parts.length !== 4) return undefined;
  const pid = Number(parts[1]);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  return { host: parts[0] ?? '', pid, start: parts.length === 4 ? parts[2] : undefined };
}

/**
 * True only when the owner ran on this host and its process is gone (or its pid was reused by a
 * process that started at another time). Never true for this process.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const place = parseOwner(owner);
  if (!place || place.host !== HOST || place.pid === process.pid) return false;
  try {
    process.kill(place.pid, 0);
  } catch (err) {
    return (err as { code?: string }).code === 'ESRCH'; // EPERM: alive, another user's
  }
  if (place.start === undefined) return false;
  const now = startTicks(place.pid);
  return now !== undefined && now !== place.start && /^\d+$/.test(place.start);
}
