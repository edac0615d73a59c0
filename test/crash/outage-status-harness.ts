// Pieces of the outage test (outage-status.test.ts): a feeder that writes documents into the
// ingest's input (a named pipe, so the ingest cannot finish before the test says so), and the two
// observers an operator has: `apex-memory status --json` (a subprocess each time) and `GET /readyz`
// of a running `apex-memory serve`, each polled until it says what is expected, within a bound.
import { once } from 'node:events';
import { closeSync, constants, createWriteStream, openSync } from 'node:fs';
import { spawnCli } from '../support/cli-async.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface FedDoc {
  id: string;
  title: string;
  text: string;
}

export function outageDoc(i: number): FedDoc {
  const n = String(i).padStart(5, '0');
  const people = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov'];
  const who = people[i % people.length] ?? 'Ada Lovelace';
  const text = `# Outage note ${n}\n\n${who} wrote note ${n} while a server of Apex Memory was stopped and started again.\n\nThe second paragraph of note ${n} mentions Paris and Lisbon, so that the graph gets entities.`;
  return { id: `outage/note-${n}`, title: `Outage note ${n}`, text };
}

export interface Feeder {
  docs: FedDoc[];
  /** Stops writing and closes the pipe: the ingest then reads its end of input. */
  finish(): Promise<void>;
}

/**
 * Writes one document every `everyMs` into the FIFO at `path` (JSONL). When the ingest stops
 * reading (its documents wait on a store that is down) the pipe fills and writing waits for it.
 */
export function startFeeder(path: string, everyMs: number): Feeder {
  const docs: FedDoc[] = [];
  const out = createWriteStream(path);
  let stopping = false;
  let failed: Error | undefined;
  out.on('error', (err) => (failed = err));
  const loop = (async () => {
    for (let i = 0; !stopping && !failed; i++) {
      const doc = outageDoc(i);
      docs.push(doc);
      if (!out.write(`${JSON.stringify(doc)}\n`)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      await sleep(everyMs);
    }
  })();
  let finishing: Promise<void> | undefined;
  const finish = async (): Promise<void> => {
    stopping = true;
    await loop;
    if (out.pending) {
      // Nobody ever opened the pipe for reading (the ingest died at start): unblock our open.
      closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    }
    // A stream already closed (the reader went away: EPIPE) never emits 'close' again.
    if (!out.closed) {
      out.end();
      await once(out, 'close').catch(() => undefined);
    }
    if (failed) throw failed;
  };
  return { docs, finish: () => (finishing ??= finish()) };
}

export interface StatusReport {
  ok: boolean;
  stores: Array<{ store: string; ok: boolean; detail: string }>;
  sagaLog: { ok: boolean; detail: string };
  sagas: Record<string, number> | null;
  waitingOnStore: Record<string, number> | null;
}

export interface StatusRun {
  code: number | null;
  report: StatusReport | undefined;
  stderr: string;
}

export async function statusOnce(env: Record<string, string>): Promise<StatusRun> {
  const r = await spawnCli(['status', '--json'], env).exited;
  let report: StatusReport | undefined;
  try {
    report = JSON.parse(r.stdout) as StatusReport;
  } catch {
    report = undefined;
  }
  return { code: r.code, report, stderr: r.stderr };
}

/** What status says about one server: a store by name, or the saga log. */
export function statusOf(report: StatusReport | undefined, name: string): { ok: boolean; detail: string } | undefined {
  if (!report) return undefined;
  if (name === 'saga_log') return report.sagaLog;
  return report.stores.find((s) => s.store === name);
}

export interface ReadyCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface ReadyAnswer {
  status: number;
  checks: ReadyCheck[];
}

export async function readyz(baseUrl: string): Promise<ReadyAnswer> {
  const res = await fetch(`${baseUrl}/readyz`, { signal: AbortSignal.timeout(20_000) });
  const body = (await res.json()) as { checks?: ReadyCheck[] };
  return { status: res.status, checks: body.checks ?? [] };
}

/** Runs `probe` until `done` holds, at most `boundMs`; the last answer and how many tries it took. */
export async function pollUntil<T>(
  probe: () => Promise<T>,
  done: (t: T) => boolean,
  boundMs: number,
  what: string,
): Promise<{ last: T; tries: number }> {
  const until = Date.now() + boundMs;
  for (let tries = 1; ; tries++) {
    const last = await probe();
    if (done(last)) return { last, tries };
    if (Date.now() > until) throw new Error(`${what}: not seen within ${boundMs} ms; last answer: ${JSON.stringify(last).slice(0, 1500)}`);
    await sleep(250);
  }
}
