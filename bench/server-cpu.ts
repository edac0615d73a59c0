// CPU seconds spent by each local server process during a bench row (issue 18: "CPU seconds per
// document for each server process"). Linux only: reads /proc. The servers are the ones
// scripts/services.sh started (their pid files under .services/); each is counted with its whole
// process tree, plus the CPU of children it has already reaped (PostgreSQL's backends end with
// their connections and their time moves into the postmaster's cutime/cstime).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export type ServerCpu = Record<string, number>;

interface Stat {
  ppid: number;
  /** utime + stime, in clock ticks */
  own: number;
  /** cutime + cstime: reaped children, in clock ticks */
  reaped: number;
}

let ticksPerSecond: number | undefined;
function ticks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: the fields start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number): number => Number(f[i] ?? 0);
    return { ppid: n(1), own: n(11) + n(12), reaped: n(13) + n(14) };
  } catch {
    return undefined;
  }
}

function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The servers' root pids, from scripts/services.sh's files under `dir` (default .services). */
export function serverPids(dir = '.services'): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (name: string, file: string): void => {
    const pid = readPid(join(dir, file));
    if (pid !== undefined && readStat(pid)) out[name] = pid;
  };
  add('postgres', 'pg/postmaster.pid');
  add('neo4j', 'run/neo4j.pid');
  add('redis', 'run/redis.pid');
  add('qdrant_front', 'run/qdrant-edge.pid');
  return out;
}

/** CPU seconds of each root's tree so far (live descendants + reaped children). */
export function sampleCpu(roots: Record<string, number>): ServerCpu {
  const stats = new Map<number, Stat>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (s) stats.set(pid, s);
  }
  const rootOf = (pid: number): number | undefined => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (Object.values(roots).includes(p)) return p;
      p = stats.get(p)?.ppid ?? 0;
    }
    return undefined;
  };
  const total = new Map<number, number>();
  for (const [pid, s] of stats) {
    const root = rootOf(pid);
    if (root === undefined) continue;
    total.set(root, (total.get(root) ?? 0) + s.own + (pid === root ? s.reaped : 0));
  }
  const out: ServerCpu = {};
  for (const [name, pid] of Object.entries(roots)) out[name] = (total.get(pid) ?? 0) / ticks();
  return out;
}

/** CPU seconds per document of each server between two samples, plus this process ("bench"). */
export function cpuPerDoc(before: ServerCpu, after: ServerCpu, n: number): ServerCpu {
  const out: ServerCpu = {};
  for (const [name, t] of Object.entries(after)) out[name] = +((t - (before[name] ?? 0)) / Math.max(1, n)).toFixed(5);
  return out;
}

/** This process's own CPU seconds (all its threads). */
export function selfCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}
