// `apex-memory reindex`: re-embeds the corpus into a new vector collection while the live one keeps
// serving (docs/reindex.md). Without a mode flag it starts a migration (or resumes the one in
// progress: re-running the same command after SIGKILL continues where it stopped) and runs the
// reindex loop to a fixed point; --verify, --switch, --rollback and --finish are the later steps.
import type { Command } from 'commander';
import type { App } from '../app.js';
import { OPENAI_DEFAULT_MODEL } from '../ingest/embedder.js';
import { rollbackReindex, finishReindex, startReindex, switchReindex, verifyNext, type ControlDeps } from '../ingest/reindex/control.js';
import { runReindex, type ReindexProgress } from '../ingest/reindex/run.js';
import {
  CHUNK_CHARS_MAX,
  CHUNK_CHARS_MIN,
  ReindexError,
  checkChunkingParams,
  chunkingParams,
  describeTarget,
  type ChunkingParams,
  type IndexState,
  type IndexTarget,
} from '../ingest/reindex/state.js';
import { oneOf, positiveInt } from './args.js';
import { exiting } from './command.js';
import { CliError, EXIT_FAILED, EXIT_OK } from './errors.js';
import { renderTable, toJson } from './output.js';
import { withApp, type CommandIo } from './runtime.js';

interface ReindexFlags {
  dimension?: number;
  embedder?: 'hashing' | 'openai';
  model?: string;
  chunking?: string;
  chunkTargetChars?: number;
  chunkMaxChars?: number;
  rate?: number;
  concurrency: number;
  verify?: boolean;
  switch?: boolean;
  rollback?: boolean;
  finish?: boolean;
  json?: boolean;
  progress: boolean;
}

const LISTED_PROBLEMS = 20;
const PROGRESS_EVERY_MS = 1_000;

/** A chunking parameter: an integer (its range is checked with the other one: checkChunkingParams). */
function chunkChars(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\s*\d{1,9}\s*$/.test(value))
      throw new ReindexError(
        'REINDEX_INVALID',
        `${flag} must be an integer from ${CHUNK_CHARS_MIN} to ${CHUNK_CHARS_MAX} (got "${value.slice(0, 40)}")`,
      );
    return Number(value);
  };
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1_000_000)
    throw new CliError('CLI_USAGE', `--rate must be a number of documents per second in (0, 1000000] (got "${value.slice(0, 40)}")`);
  return n;
}

export function registerReindex(program: Command): void {
  program
    .command('reindex')
    .description('re-embed the corpus into a new vector collection without downtime (then --verify, --switch, --finish)')
    .option('--dimension <n>', 'embedding dimension of the new index', positiveInt(65_536))
    .option(
      '--embedder <kind>',
      'embedder of the new index: hashing or openai (default: the active one)',
      oneOf(['hashing', 'openai'] as const),
    )
    .option('--model <name>', 'model of the new index (openai; default: the active one, or text-embedding-3-small)')
    .option(
      '--chunk-target-chars <n>',
      're-chunk: chunks packed up to about n characters (default: the active chunking)',
      chunkChars('--chunk-target-chars'),
    )
    .option(
      '--chunk-max-chars <n>',
      're-chunk: chunks of at most n characters (default: the active chunking)',
      chunkChars('--chunk-max-chars'),
    )
    .option('--chunking <version>', 'refused: give the parameters (--chunk-target-chars, --chunk-max-chars); the version is assigned')
    .option('--rate <docs/s>', 'at most this many documents per second (paid embedding APIs)', positiveNumber)
    .option('-c, --concurrency <n>', 'reindex sagas at the same time', positiveInt(64), 4)
    .option('--verify', 'check the new index against PostgreSQL; exit 1 with the list of problems')
    .option('--switch', 'serve reads from the new index (refused unless --verify passes)')
    .option('--rollback', 'serve reads from the old index again (after --switch), or abandon the migration (before)')
    .option('--finish', 'drop the old index after --switch (ends dual writes; a re-run also drops collections a late write re-created)')
    .option('--no-progress', 'no progress lines on stderr')
    .option('--json', 'print one JSON object on stdout')
    .action(exiting((flags: ReindexFlags, cmd: Command) => reindex(cmd, flags)));
}

async function reindex(cmd: Command, flags: ReindexFlags): Promise<number> {
  const modes = (['verify', 'switch', 'rollback', 'finish'] as const).filter((m) => flags[m] === true);
  if (modes.length > 1) throw new CliError('CLI_USAGE', `--${modes.join(', --')}: give one of them at a time`);
  if (flags.chunking !== undefined) {
    throw new ReindexError(
      'REINDEX_UNSUPPORTED',
      '--chunking: a chunking is given by its parameters (--chunk-target-chars N --chunk-max-chars M); its version number is assigned; see docs/reindex.md',
    );
  }
  const chunkFlags = flags.chunkTargetChars !== undefined || flags.chunkMaxChars !== undefined;
  const targetFlags = flags.dimension !== undefined || flags.embedder !== undefined || flags.model !== undefined || chunkFlags;
  if (modes.length === 1 && targetFlags)
    throw new CliError('CLI_USAGE', `--${modes[0] ?? ''} takes no --dimension/--embedder/--model/--chunk-target-chars/--chunk-max-chars`);
  // Both parameters given: checked before any store opens (one alone is checked against the active chunking's other one).
  if (flags.chunkTargetChars !== undefined && flags.chunkMaxChars !== undefined)
    checkChunkingParams({ targetChars: flags.chunkTargetChars, maxChars: flags.chunkMaxChars });
  return withApp(cmd, { json: flags.json === true }, async (app, io) => {
    const index = app.index;
    if (!index) throw new CliError('CLI_CONFIG', 'this relational store keeps no active index record: reindex needs PostgreSQL or PGlite');
    const deps: ControlDeps = { stores: app.stores, record: index.record, vectors: app.stores.qdrant, base: index.base };
    const mode = modes[0];
    if (mode === 'verify') return verify(deps, io);
    if (mode === 'switch') return report(io, 'switched', (await switchReindex(deps)).state);
    if (mode === 'rollback') return report(io, 'rolled back', (await rollbackReindex(deps)).state);
    if (mode === 'finish') return report(io, 'finished', (await finishReindex(deps)).state);
    return run(app, deps, io, flags, targetFlags);
  });
}

/** The target asked for: the flags over the active target (or the one in progress, to resume). */
function wantedTarget(state: IndexState, flags: ReindexFlags, targetFlags: boolean): Omit<IndexTarget, 'collection'> {
  if (!targetFlags) {
    if (state.phase === 'migrating' && state.next) return state.next; // resume
    throw new CliError(
      'CLI_USAGE',
      'give the new index: --dimension N, --embedder/--model and/or --chunk-target-chars/--chunk-max-chars (or re-run a reindex in progress)',
    );
  }
  const base = state.active;
  const embedder = flags.embedder ?? base.embedder;
  const model = flags.model ?? (embedder === base.embedder ? base.model : embedder === 'hashing' ? 'hashing' : OPENAI_DEFAULT_MODEL);
  if (embedder === 'hashing' && model !== 'hashing') throw new CliError('CLI_USAGE', '--model applies to --embedder openai only');
  return { embedder, model, dimension: flags.dimension ?? base.dimension, chunking: base.chunking };
}

/** The chunking asked for, over the active one's parameters; undefined: no chunking flag. */
export function wantedChunking(
  state: IndexState,
  flags: Pick<ReindexFlags, 'chunkTargetChars' | 'chunkMaxChars'>,
): ChunkingParams | undefined {
  if (flags.chunkTargetChars === undefined && flags.chunkMaxChars === undefined) return undefined;
  const active = chunkingParams(state, state.active.chunking);
  const p = { targetChars: flags.chunkTargetChars ?? active.targetChars, maxChars: flags.chunkMaxChars ?? active.maxChars };
  checkChunkingParams(p);
  return p;
}

async function run(app: App, deps: ControlDeps, io: CommandIo, flags: ReindexFlags, targetFlags: boolean): Promise<number> {
  const index = app.index;
  if (!index) return EXIT_FAILED;
  const cur = await index.record.read();
  if (!cur) throw new CliError('CLI_CONFIG', 'no active index record');
  const started = await startReindex(deps, wantedTarget(cur.state, flags, targetFlags), wantedChunking(cur.state, flags));
  const next = started.state.next;
  if (!next) return EXIT_FAILED;
  io.info(`reindex: ${describeTarget(started.state.active)} -> ${describeTarget(next)} (phase ${started.state.phase}; dual writes on)`);
  const controller = new AbortController();
  const onSigint = (): void => {
    controller.abort();
    io.err('interrupted: finishing the documents in flight; re-run the same command to continue');
  };
  process.on('SIGINT', onSigint);
  let last = 0;
  const progress = (p: ReindexProgress): void => {
    if (!flags.progress) return;
    const now = Date.now();
    if (now - last < PROGRESS_EVERY_MS && p.remaining > 0) return;
    last = now;
    const eta = p.etaSec === null ? '?' : `${Math.ceil(p.etaSec)} s`;
    io.err(
      `reindex pass ${p.pass}: ${p.done} done, ${p.remaining} to go | ${p.failed} failed | ${p.docsPerSec.toFixed(1)} docs/s | ETA ${eta}`,
    );
  };
  let summary;
  try {
    summary = await runReindex({ stores: app.stores, engine: app.engine, def: index.reindexDef }, index.targets.bind(next), {
      ...(flags.rate !== undefined ? { rate: flags.rate } : {}),
      concurrency: flags.concurrency,
      activeChunking: started.state.active.chunking,
      onProgress: progress,
      signal: controller.signal,
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  // The loop waits for its own reindex sagas only; its start also took over the other sagas a
  // killed process on this host left (an ingest, a delete). Nothing else runs on this command's
  // engine, so let those end before it closes: cut there, they would count one more interrupted
  // attempt (RECOVERY_LIMIT) and hold their documents until someone recovers them.
  await app.engine.idle();
  const ok = summary.unsettled === 0 && summary.failed.length === 0;
  if (io.json) {
    io.out(
      toJson({
        ok,
        phase: started.state.phase,
        active: started.state.active,
        next,
        ...summary,
        docsPerSecond: summary.reindexed / Math.max(summary.seconds, 1e-9),
      }),
    );
    return ok ? EXIT_OK : EXIT_FAILED;
  }
  const rows: Array<[string, string]> = [
    ['new index', describeTarget(next)],
    ['committed documents', String(summary.committed)],
    ['reindexed (this run)', String(summary.reindexed)],
    ['failed', String(summary.failed.length)],
    ['not yet current', String(summary.unsettled)],
    ['passes', String(summary.passes)],
    ['documents/second', (summary.reindexed / Math.max(summary.seconds, 1e-9)).toFixed(1)],
    ['wall time', `${summary.seconds.toFixed(2)} s`],
  ];
  io.out(`\n${renderTable([{ header: 'reindex' }, { header: 'result' }], rows)}`);
  for (const f of summary.failed.slice(0, LISTED_PROBLEMS)) io.out(`  failed ${f.docId}: ${f.status}${f.reason ? ` (${f.reason})` : ''}`);
  io.out(
    ok
      ? '\nnext: `apex-memory reindex --verify`, then `--switch`'
      : '\nnot complete: re-run the same command (it continues where it stopped)',
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}

async function verify(deps: ControlDeps, io: CommandIo): Promise<number> {
  const cur = await deps.record.read();
  if (!cur) throw new CliError('CLI_CONFIG', 'no active index record');
  const r = await verifyNext(deps, cur.state);
  const ok = r.problems.length === 0;
  if (io.json) {
    io.out(toJson({ ok, next: cur.state.next, committed: r.committed, current: r.current, problems: r.problems }));
  } else {
    io.out(
      `reindex --verify: ${r.current}/${r.committed} committed documents current in ${cur.state.next?.collection ?? '?'}; ${r.problems.length} problem(s)`,
    );
    for (const p of r.problems.slice(0, LISTED_PROBLEMS)) io.out(`  ${p.kind} ${p.docId || '-'}: ${p.detail}`);
    if (r.problems.length > LISTED_PROBLEMS) io.out(`  ... and ${r.problems.length - LISTED_PROBLEMS} more (--json lists all)`);
  }
  return ok ? EXIT_OK : EXIT_FAILED;
}

function report(io: CommandIo, what: string, state: IndexState): number {
  if (io.json) io.out(toJson({ ok: true, action: what, ...state }));
  else {
    io.out(`reindex ${what}: phase ${state.phase}; reads from ${describeTarget(state.active)}`);
    if (state.next) io.out(`  next (dual-written): ${describeTarget(state.next)}`);
    if (state.previous) io.out(`  previous (dual-written until --finish): ${describeTarget(state.previous)}`);
  }
  return EXIT_OK;
}
