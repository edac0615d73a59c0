// A server process a test starts, kills (SIGKILL) and starts again on the same port and data
// directory: the outage test's stand-in for "the server really went away". Output goes to a log
// file (kept for the failure message), readiness is a line the server prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  /** Printed (stdout or stderr) once the server answers. */
  ready: RegExp;
  log: string;
  env?: NodeJS.ProcessEnv;
  readyTimeoutMs?: number;
  /** Run as this user (root starting PostgreSQL, which refuses to run as root). */
  uid?: number;
  gid?: number;
  /** How `kill` stops it (default SIGKILL; PostgreSQL: SIGQUIT, its immediate, crash-like stop). */
  killSignal?: NodeJS.Signals;
}

/** Every server still running when the test process exits is killed with it (no leftovers). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** A restartable server: `start` waits for its ready line; `kill` stops it at once and waits for the exit. */
export class PrivateProcess {
  private proc: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(private readonly spec: ProcessSpec) {}

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.spec.name} is already running`);
    const { spec } = this;
    appendFileSync(spec.log, `\n--- start ${new Date().toISOString()}\n`);
    const ids = spec.uid === undefined ? {} : { uid: spec.uid, gid: spec.gid ?? spec.uid };
    const proc = spawn(spec.command, spec.args, { stdio: ['ignore', 'pipe', 'pipe'], env: spec.env ?? process.env, ...ids });
    this.proc = proc;
    live.add(proc);
    this.exited = new Promise((resolve) =>
      proc.once('exit', () => {
        live.delete(proc);
        resolve();
      }),
    );
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(`not ready in ${spec.readyTimeoutMs ?? 120_000} ms`), spec.readyTimeoutMs ?? 120_000);
      const fail = (why: string): void => {
        clearTimeout(timer);
        reject(new Error(`${spec.name} ${why}; log ${spec.log}:\n${this.tail()}`));
      };
      const onData = (d: Buffer): void => {
        appendFileSync(spec.log, d);
        if (seen === '\u0000') return; // already ready: only logging from here on
        seen = (seen + d.toString('utf8')).slice(-8192);
        if (spec.ready.test(seen)) {
          seen = '\u0000';
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code, signal) => fail(`exited (${code ?? signal}) before it was ready`));
      proc.once('error', (err) => fail(`could not be started: ${err.message}`));
    });
  }

  /** No shutdown of any kind, as when the process dies (SIGKILL, or the spec's crash-like signal). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.proc?.kill(this.spec.killSignal ?? 'SIGKILL');
    await this.exited;
  }

  tail(): string {
    try {
      return readFileSync(this.spec.log, 'utf8').slice(-3000);
    } catch {
      return '(no log)';
    }
  }
}

/** Whether something accepts connections on 127.0.0.1:port (a leftover server would confuse the test). */
export function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
