// The real `apex-memory` CLI as a child process that the test can watch and kill: for crash
// tests (SIGKILL at a moment chosen from the child's own output) and for tests whose own process
// serves something the child talks to (the Qdrant checking proxy), where spawnSync would block it.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, ROOT, embeddedEnv, type Run } from './cli.js';

export interface CliChild {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  /** Resolves with the first match of `re` in the output (rejects if the child exits first). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<Run>;
}

export function spawnCli(args: string[], env: Record<string, string> = {}): CliChild {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: embeddedEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let all = '';
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const l of listeners) l();
  };
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    all += d.toString();
    changed();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    all += d.toString();
    changed();
  });
  let done = false;
  const exited = new Promise<Run>((res) =>
    child.on('close', (code) => {
      done = true; // before the listeners run: a waitFor still waiting then fails at once, not at its timeout
      changed();
      res({ code, stdout, stderr });
    }),
  );
  const waitFor = (re: RegExp, timeoutMs = 120_000): Promise<RegExpMatchArray> =>
    new Promise((res, rej) => {
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for ${String(re)}; output so far:\n${all.slice(-2000)}`)),
        timeoutMs,
      );
      const check = (): void => {
        const m = re.exec(all);
        if (m) finish(undefined, m);
        else if (done) finish(new Error(`the child exited before printing ${String(re)}:\n${all.slice(-2000)}`));
      };
      const finish = (err?: Error, m?: RegExpMatchArray): void => {
        clearTimeout(timer);
        listeners.delete(check);
        if (err) rej(err);
        else if (m) res(m);
      };
      listeners.add(check);
      check();
    });
  return { child, output: () => all, waitFor, exited };
}

/** Runs the CLI to its end without blocking this process's event loop. */
export function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return spawnCli(args, env).exited;
}
