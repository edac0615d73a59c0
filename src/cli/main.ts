// The `apex-memory` entry: builds the commander program from the command modules, runs one
// command and turns its result or error into an exit code. bin/apex-memory.mjs calls main();
// `node --import tsx src/cli/main.ts` runs it directly.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { escapeControls } from './args.js';
import { takeExitCode, type RegisterCommand } from './command.js';
import { registerDelete } from './delete.js';
import { EXIT_OK, EXIT_USAGE, describeError, formatError } from './errors.js';
import { runAndExit } from './exit.js';
import { registerGet } from './get.js';
import { registerIngest } from './ingest.js';
import { registerSagas } from './sagas.js';
import { registerSearch } from './search.js';
import { registerStatus } from './status.js';
import { registerVerify } from './verify.js';
import { registerVacuum } from './vacuum.js';
import { registerRepair } from './repair.js';
import { registerWorker } from './worker.js';
import { registerServe } from './serve.js';

/** Every command, in help order. Adding one is one line here. */
const COMMANDS: readonly RegisterCommand[] = [
  registerIngest,
  registerGet,
  registerSearch,
  registerDelete,
  registerVerify,
  registerVacuum,
  registerRepair,
  registerSagas,
  registerStatus,
  registerWorker,
  registerServe,
];

const ENV_HELP = `
Environment:
  APEX_DATA_DIR        data directory (same as --data-dir; default .apex)
  DATABASE_URL         PostgreSQL store (default: embedded PGlite in the data dir)
  NEO4J_URL            Neo4j store (neo4j://host:7687 routing, or bolt:// direct; NEO4J_USER, NEO4J_PASSWORD)
  QDRANT_URL           Qdrant store (QDRANT_API_KEY)
  REDIS_URL            Redis store
  SAGA_LOG_URL         saga log: a SQLite file path or a PostgreSQL URL (default <data dir>/saga-log.db)
  APEX_NAMESPACE       several deployments on shared servers: each its own schema, collection, keys, labels, data dir (docs/deploy.md)
  APEX_SAGA_LOG_SYNC   FULL (default) or NORMAL for the SQLite log (NORMAL is shown in every output)
  APEX_STORE_TIMEOUT_MS  per-call store timeout, 100 to 3600000 ms (default 10000)
  APEX_STORE_OUTAGE_BUDGET_MS  how long a step retries a store that is down, 0 to 86400000 ms (default 60000)
  EMBEDDER             hashing (default) or openai (OPENAI_API_KEY, OPENAI_BASE_URL, ...)

Exit codes: 0 success, 1 the command ran and failed or found problems, 2 usage or configuration error,
130 interrupted. See docs/cli.md.`;

export function buildProgram(): Command {
  const program = new Command('apex-memory')
    .description('Writes every document into PostgreSQL, Neo4j, Qdrant and Redis, kept consistent by sagas.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--data-dir <dir>', 'data directory of the embedded stores and saga log (default .apex, env APEX_DATA_DIR)')
    .showHelpAfterError('(run with --help for usage)')
    // Commander echoes the bad value: control characters in it are shown escaped, never sent raw
    // to the terminal (an ESC sequence in a flag value could rewrite what the user sees).
    .configureOutput({ outputError: (text, write) => write(escapeControls(text)) })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText('after', ENV_HELP)
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** bin/apex-memory.mjs ends the process through this: stdout is drained before the exit. */
export { runAndExit } from './exit.js';

/** Runs the CLI for `argv` (process.argv shape); resolves to the exit code, never throws. */
export async function main(argv: readonly string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return takeExitCode();
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message (or the help). Help asked for exits 0; help
      // shown because a subcommand is missing (`apex-memory sagas`) is a usage error.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    process.stderr.write(`${formatError(err)}\n`);
    return describeError(err).exitCode;
  }
}

/** package.json sits two levels up from both src/cli/main.ts and dist/cli/main.js. */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) await runAndExit(() => main());
