// Shared by the fleet crash tests: spawning worker children, reading their call intervals,
// looking at the PostgreSQL saga log directly, and generating small documents.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ValidDocument } from '../../src/ingest/schema.js';

const CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url));

export interface WorkerChild {
  proc: ChildProcess;
  pid: number;
  owner: Promise<string>;
  /** Every stdout line so far. */
  lines: string[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  killedAt?: number;
}

export function spawnWorker(env: Record<string, string>): WorkerChild {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (proc.pid === undefined) throw new Error('worker child did not start');
  const lines: string[] = [];
  const stderr: string[] = [];
  let resolveOwner: (o: string) => void = () => undefined;
  let rejectOwner: (e: Error) => void = () => undefined;
  const owner = new Promise<string>((res, rej) => {
    resolveOwner = res;
    rejectOwner = rej;
  });
  // Rejected when the child exits before it prints OWNER: a worker killed while still starting
  // (a test's clean-up) is no unhandled rejection; a test awaiting `owner` still gets the error.
  owner.catch(() => undefined);
  let buf = '';
  proc.stdout?.on('data', (d: Buffer) => {
    buf += d.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      if (line.startsWith('OWNER ')) resolveOwner(line.slice(6));
    }
  });
  proc.stderr?.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => {
      rejectOwner(new Error(`worker ${proc.pid} exited (${code ?? signal}) before it started: ${stderr.join('').slice(-2000)}`));
      res({ code, signal });
    }),
  );
  return { proc, pid: proc.pid, owner, lines, stderr, exited };
}

export function sigkill(w: WorkerChild): void {
  w.killedAt = Date.now();
  w.proc.kill('SIGKILL');
}

export interface CallInterval {
  pid: number;
  saga: string;
  store: string;
  method: string;
  token: number;
  start: number;
  /** Infinity when the call never ended (its process was killed: then the kill time is used). */
  end: number;
  /** 'ok', an error code, or 'cut' when its process was killed during the call. */
  outcome: string;
}

/** Parses the call files; a call cut by a kill ends at the kill time. */
export function readIntervals(files: Array<{ path: string; pid: number; killedAt?: number }>): CallInterval[] {
  const out: CallInterval[] = [];
  for (const f of files) {
    if (!existsSync(f.path)) continue;
    const open = new Map<string, CallInterval>();
    for (const line of readFileSync(f.path, 'utf8').split('\n')) {
      const p = line.split(' ');
      if (p[0] === 'S' && p.length === 7) {
        open.set(p[1] ?? '', {
          pid: f.pid,
          saga: p[2] ?? '',
          store: p[3] ?? '',
          method: p[4] ?? '',
          token: Number(p[5]),
          start: Number(p[6]),
          end: Infinity,
          outcome: 'cut',
        });
      } else if (p[0] === 'E' && p.length === 4) {
        const iv = open.get(p[1] ?? '');
        if (iv) {
          iv.end = Number(p[2]);
          iv.outcome = p[3] ?? '';
          out.push(iv);
          open.delete(p[1] ?? '');
        }
      }
    }
    for (const iv of open.values()) out.push({ ...iv, end: f.killedAt ?? Infinity });
  }
  return out;
}

/** Pairs of calls on the same saga and store, by different tokens, whose intervals overlap. */
export function overlaps(intervals: CallInterval[]): Array<[CallInterval, CallInterval]> {
  const groups = new Map<string, CallInterval[]>();
  for (const iv of intervals) {
    const k = `${iv.saga}\u0000${iv.store}`;
    const g = groups.get(k) ?? [];
    g.push(iv);
    groups.set(k, g);
  }
  const bad: Array<[CallInterval, CallInterval]> = [];
  for (const g of groups.values()) {
    g.sort((a, b) => a.start - b.start);
    for (let i = 0; i < g.length; i++) {
      for (let j = i + 1; j < g.length; j++) {
        const a = g[i] as CallInterval;
        const b = g[j] as CallInterval;
        if (b.start >= a.end) break;
        if (a.token !== b.token) bad.push([a, b]);
      }
    }
  }
  return bad;
}

/** Direct read access to the PostgreSQL saga log (schema apex_saga). */
export class LogProbe {
  private constructor(private readonly pool: pg.Pool) {}

  static open(url: string): LogProbe {
    return new LogProbe(new pg.Pool({ connectionString: url, max: 2 }));
  }

  async statusCounts(): Promise<Record<string, number>> {
    const r = await this.pool.query<{ status: string; n: string }>('SELECT status, count(*) AS n FROM apex_saga.sagas GROUP BY status');
    return Object.fromEntries(r.rows.map((row) => [row.status, Number(row.n)]));
  }

  /** Sagas an owner holds that are not finished: id -> next_seq. */
  async heldBy(owner: string): Promise<Map<string, number>> {
    const r = await this.pool.query<{ id: string; next_seq: number }>(
      `SELECT id, next_seq FROM apex_saga.sagas WHERE owner = $1 AND status IN ('running', 'compensating')`,
      [owner],
    );
    return new Map(r.rows.map((row) => [row.id, row.next_seq]));
  }

  async owners(): Promise<Map<string, number>> {
    const r = await this.pool.query<{ owner: string; n: string }>(
      `SELECT owner, count(*) AS n FROM apex_saga.sagas WHERE status IN ('running', 'compensating') AND owner IS NOT NULL GROUP BY owner`,
    );
    return new Map(r.rows.map((row) => [row.owner, Number(row.n)]));
  }

  async state(ids: string[]): Promise<Array<{ id: string; owner: string | null; next_seq: number; status: string }>> {
    const r = await this.pool.query<{ id: string; owner: string | null; next_seq: number; status: string }>(
      'SELECT id, owner, next_seq, status FROM apex_saga.sagas WHERE id = ANY($1)',
      [ids],
    );
    return r.rows;
  }

  /** (saga, step) pairs whose compensation is recorded as succeeded more than once. */
  async doubleCompensations(): Promise<Array<{ saga_id: string; step: string; n: string }>> {
    const r = await this.pool.query<{ saga_id: string; step: string; n: string }>(
      `SELECT saga_id, record->>'step' AS step, count(*) AS n FROM apex_saga.saga_records
        WHERE type = 'compensation_succeeded' GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    return r.rows;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Waits until every saga of `owner` that was unfinished at the kill (`held`: id -> next_seq) has
 * a record appended by another owner; returns the ms from the kill to each first such record.
 */
export async function measureTakeover(
  probe: LogProbe,
  owner: string,
  held: Map<string, number>,
  killedAt: number,
  deadlineMs: number,
): Promise<number[]> {
  const waiting = new Map(held);
  const taken: number[] = [];
  while (waiting.size > 0 && Date.now() - killedAt < deadlineMs) {
    for (const row of await probe.state([...waiting.keys()])) {
      const seq = waiting.get(row.id);
      if (seq === undefined) continue;
      if (row.owner !== owner && row.next_seq > seq) {
        taken.push(Date.now() - killedAt);
        waiting.delete(row.id);
      }
    }
    if (waiting.size > 0) await sleep(50);
  }
  if (waiting.size > 0)
    throw new Error(
      `${waiting.size} saga(s) of ${owner} not taken over within ${deadlineMs} ms: ${[...waiting.keys()].slice(0, 5).join(', ')}`,
    );
  return taken;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Small deterministic documents: a few sentences, entities included. */
export function makeDoc(prefix: string, i: number): ValidDocument {
  const words = ['Apex Team', 'Redis Cluster', 'Neo4j Graph', 'Qdrant Vector', 'PostgreSQL Row'];
  const a = words[i % words.length] ?? 'Apex Team';
  const b = words[(i * 7 + 3) % words.length] ?? 'Redis Cluster';
  const text = `Document ${i} of ${prefix}. The ${a} met the ${b} on day ${i % 31}. ` + `Sentence ${i * 13} says nothing else about ${a}.`;
  return { id: `${prefix}-${String(i).padStart(5, '0')}`, title: `${prefix} ${i}`, text, metadata: { i } };
}
