// One command's lifetime: open the app for the chosen data dir and plan, say which profile ran
// (stderr under --json, so stdout stays pure JSON), run the command, and always close the app
// (engine, then stores and saga log) so that the log is flushed before the process exits.
import type { Command } from 'commander';
import type { App, AppOptions } from '../app.js';
import type { IngestPlan } from '../ingest/sagas/ingest-saga.js';
import type { ProfileDescription } from '../wiring.js';
import { profileLines } from './output.js';

export interface GlobalOptions {
  dataDir?: string;
}

export interface CommandIo {
  json: boolean;
  /** Human output: stdout normally; stderr under --json. */
  info(text: string): void;
  /** The command's result: stdout. */
  out(text: string): void;
  /** Diagnostics: always stderr. */
  err(text: string): void;
  profile: ProfileDescription;
}

export interface RunOptions {
  json?: boolean;
  plan?: IngestPlan;
  /** Extra app options (the worker command passes lease settings, hooks). */
  app?: Omit<AppOptions, 'dataDir' | 'plan'>;
}

/** The data dir from the global flag (or the command's own, for `ingest --data-dir`). */
export function globalOptions(cmd: Command): GlobalOptions {
  const opts = cmd.optsWithGlobals<{ dataDir?: unknown }>();
  return typeof opts.dataDir === 'string' && opts.dataDir !== '' ? { dataDir: opts.dataDir } : {};
}

/** Opens the app, runs `body`, closes the app whatever happens; resolves to the exit code. */
export async function withApp(cmd: Command, opts: RunOptions, body: (app: App, io: CommandIo) => Promise<number>): Promise<number> {
  // Loaded here, not at the top, so that `--help` never pays for opening stores.
  const { openApp } = await import('../app.js');
  const app = await openApp({ ...opts.app, ...globalOptions(cmd), ...(opts.plan ? { plan: opts.plan } : {}) });
  try {
    const io = makeIo(opts.json === true, app.profile.describe());
    io.info(profileLines(io.profile));
    return await body(app, io);
  } finally {
    await app.close();
  }
}

function makeIo(json: boolean, profile: ProfileDescription): CommandIo {
  const write = (stream: NodeJS.WriteStream) => (text: string) => void stream.write(`${text}\n`);
  return { json, profile, info: write(json ? process.stderr : process.stdout), out: write(process.stdout), err: write(process.stderr) };
}
