// Issue 25 "Measure": the reindex rate and the write path's latency during a migration, on one
// profile per run (`main.ts reindex --profile servers|embedded`; bench/reindex.sh runs both).
//
//   seed      N committed documents at hashing-256
//   rate      the reindex loop (src/ingest/reindex/run.ts, what `apex-memory reindex` runs) to
//             hashing-384 with no other traffic, once per concurrency; every run but the last is
//             abandoned (`--rollback` before `--switch`) so the next one starts from nothing
//   rounds    alternately: the steady writer alone (phase steady), then the same writer while a
//             reindex runs (phase migrating: dual writes + reindex sagas competing; the writer
//             starts with the loop's first saga and the loop is stopped when the writer is done,
//             then abandoned)
//   switched  after the last rate run: verify, `--switch`, the writer again (dual writes only)
//
// One JSON row per measurement, printed as it is made, each with the load average at its start
// and end; ratio rows (migrating / steady per round, switched / median steady) and one summary row
// of medians close the run.
import type { App } from '../src/app.js';
import { HashingEmbedder } from '../src/ingest/embedder.js';
import { rollbackReindex, startReindex, switchReindex } from '../src/ingest/reindex/control.js';
import { RECORD_CACHE_MS } from '../src/ingest/reindex/record.js';
import { runReindex, type ReindexSummary } from '../src/ingest/reindex/run.js';
import { targetOfEmbedder } from '../src/ingest/reindex/targets.js';
import { benchDocs } from './docs.js';
import { TO_DIMENSION, controlDeps, indexOf, ingestAll, load1, openReindexSetup, sleep, type ReindexProfile } from './reindex-setup.js';
import { WriteSource, runWriter, type WriterStats } from './reindex-writer.js';

export interface ReindexBenchOptions {
  profile: ReindexProfile;
  /** The saga log on the servers profile (embedded: its own SQLite log). */
  log: 'sqlite' | 'postgres';
  /** Committed documents seeded before anything is measured. */
  docs: number;
  /** Reindex loop concurrencies of the rate rows (the last one's index is switched to). */
  rates: number[];
  /** Concurrency of the reindex loop during the migrating phases. */
  reindexConcurrency: number;
  /** Writes per phase and the writer's concurrency. */
  writes: number;
  writerConcurrency: number;
  /** Steady/migrating alternations (at least 2). */
  rounds: number;
  seed: number;
  emit: (row: Record<string, unknown>) => void;
}

type Row = Record<string, unknown>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const ratio = (a: number, b: number): number => (b > 0 ? +(a / b).toFixed(3) : 0);

export async function benchReindex(opts: ReindexBenchOptions): Promise<void> {
  if (opts.rates.length === 0) throw new Error('--rates: give at least one reindex concurrency');
  if (opts.rounds < 1) throw new Error('--rounds must be at least 1');
  const setup = await openReindexSetup(opts.profile, opts.log);
  const { app, reindexApp } = setup;
  const base: Row = { bench: 'reindex', profile: opts.profile, log: opts.profile === 'servers' ? opts.log : 'sqlite (embedded)' };
  const emit = (row: Row): void => opts.emit({ ...base, ...row });
  try {
    const l0 = load1();
    const t0 = performance.now();
    const docs = benchDocs(`rx${opts.seed}`, opts.docs, opts.seed);
    await ingestAll(app, docs, 16);
    const seedSecs = (performance.now() - t0) / 1000;
    emit({
      name: `reindex seed ${opts.profile}`,
      concurrency: 16,
      n: docs.length,
      throughput_per_s: +(docs.length / seedSecs).toFixed(2),
      seconds: +seedSecs.toFixed(2),
      load_start: l0,
      load_end: load1(),
    });

    const source = new WriteSource(docs, `rx${opts.seed}w`, opts.seed + 1);
    const steady: WriterStats[] = [];
    const ratios: Row[] = [];
    const phaseRow = (phase: string, round: number, s: WriterStats, extra: Row = {}): Row => ({
      name: `reindex write ${opts.profile} ${phase}`,
      phase,
      round,
      concurrency: opts.writerConcurrency,
      ...s,
      ...extra,
    });
    const ratioRow = (what: string, round: number, b: WriterStats, a: Omit<WriterStats, 'n'>): Row => ({
      name: `reindex write ${opts.profile} ${what}`,
      round,
      concurrency: opts.writerConcurrency,
      p50_ratio: ratio(b.p50_ms, a.p50_ms),
      p90_ratio: ratio(b.p90_ms, a.p90_ms),
      p99_ratio: ratio(b.p99_ms, a.p99_ms),
      docs_per_s_ratio: ratio(b.throughput_per_s, a.throughput_per_s),
      load_start: a.load_start,
      load_end: b.load_end,
    });

    // 1. The reindex rate, no other traffic; every run but the last abandoned.
    for (const [i, c] of opts.rates.entries()) {
      const last = i === opts.rates.length - 1;
      if (last) {
        // 2. The steady/migrating rounds come before the last rate run, whose index they need not.
        for (let round = 1; round <= opts.rounds; round++) {
          const a = await runWriter(app, source, opts.writes, opts.writerConcurrency);
          steady.push(a);
          emit(phaseRow('steady', round, a));
          const { stats: b, meanwhile } = await migratingPhase(app, reindexApp, source, opts);
          emit(
            phaseRow('migrating', round, b, {
              reindex_concurrency: opts.reindexConcurrency,
              reindexed_meanwhile: meanwhile.reindexed,
              reindex_docs_per_s: +(meanwhile.reindexed / Math.max(meanwhile.seconds, 1e-9)).toFixed(2),
              // true: the loop reached its fixed point before the writer's count (the rest of the
              // phase had dual writes only; raise --docs).
              reindex_finished_first: meanwhile.finishedFirst,
            }),
          );
          const r = ratioRow('migrating/steady', round, b, a);
          ratios.push(r);
          emit(r);
        }
      }
      const l = load1();
      const summary = await rateRun(reindexApp, c);
      emit({
        name: `reindex rate ${opts.profile}`,
        concurrency: c,
        n: summary.reindexed,
        committed: summary.committed,
        throughput_per_s: +(summary.reindexed / Math.max(summary.seconds, 1e-9)).toFixed(2),
        seconds: +summary.seconds.toFixed(2),
        passes: summary.passes,
        failed: summary.failed.length,
        unsettled: summary.unsettled,
        load_start: l,
        load_end: load1(),
      });
      if (!last) await rollbackReindex(controlDeps(reindexApp));
    }

    // 3. Switched: reads from the new index, writes still reach both (dual writes only).
    await switchReindex(controlDeps(reindexApp));
    await sleep(RECORD_CACHE_MS + 100); // the writer's record cache
    const cPhase = await runWriter(app, source, opts.writes, opts.writerConcurrency);
    emit(phaseRow('switched', 0, cPhase));
    const steadyMedian = {
      ...cPhase,
      p50_ms: median(steady.map((s) => s.p50_ms)),
      p90_ms: median(steady.map((s) => s.p90_ms)),
      p99_ms: median(steady.map((s) => s.p99_ms)),
      throughput_per_s: median(steady.map((s) => s.throughput_per_s)),
      load_start: steady[0]?.load_start ?? 0,
    };
    const sw = ratioRow('switched/steady', 0, cPhase, steadyMedian);
    emit(sw);
    const m = (k: string): number => median(ratios.map((r) => Number(r[k])));
    emit({
      name: `reindex summary ${opts.profile}`,
      docs: opts.docs,
      rounds: opts.rounds,
      writes_per_phase: opts.writes,
      writer_concurrency: opts.writerConcurrency,
      migrating_over_steady: { p50: m('p50_ratio'), p90: m('p90_ratio'), p99: m('p99_ratio'), docs_per_s: m('docs_per_s_ratio') },
      switched_over_steady: { p50: sw.p50_ratio, p90: sw.p90_ratio, p99: sw.p99_ratio, docs_per_s: sw.docs_per_s_ratio },
      seconds: +((performance.now() - t0) / 1000).toFixed(1),
      load_start: l0,
      load_end: load1(),
    });
  } finally {
    await setup.close();
  }
}

const target384 = targetOfEmbedder(new HashingEmbedder(TO_DIMENSION));

/** Starts a migration (the record's next = hashing-384) and runs the loop to a fixed point. */
async function rateRun(reindexApp: App, c: number): Promise<ReindexSummary> {
  const deps = controlDeps(reindexApp);
  const index = indexOf(reindexApp);
  const started = await startReindex(deps, target384);
  if (!started.state.next) throw new Error('no next target after start');
  const summary = await runReindex(
    { stores: reindexApp.stores, engine: reindexApp.engine, def: index.reindexDef },
    index.targets.bind(started.state.next),
    { concurrency: c },
  );
  if (summary.failed.length > 0 || summary.unsettled > 0) {
    throw new Error(
      `reindex c=${c}: ${summary.failed.length} failed, ${summary.unsettled} not current: ${JSON.stringify(summary.failed.slice(0, 3))}`,
    );
  }
  return summary;
}

/**
 * The writer while a reindex runs. The writer starts at the loop's first progress report (its first
 * comparison is done and its sagas begin) and stops early if the loop reaches its fixed point
 * first; then the loop is stopped and the migration abandoned. (The loop waits for its own reindex
 * sagas only, not for the writer's on a shared engine: test/unit/reindex-busy-engine.test.ts.)
 */
async function migratingPhase(
  app: App,
  reindexApp: App,
  source: WriteSource,
  opts: ReindexBenchOptions,
): Promise<{ stats: WriterStats; meanwhile: { reindexed: number; seconds: number; finishedFirst: boolean } }> {
  const deps = controlDeps(reindexApp);
  const index = indexOf(reindexApp);
  const started = await startReindex(deps, target384);
  if (!started.state.next) throw new Error('no next target after start');
  await sleep(RECORD_CACHE_MS + 100); // every write of the phase sees the migration (dual writes)
  const controller = new AbortController();
  let begin: () => void = () => undefined;
  const begun = new Promise<void>((r) => (begin = r));
  let loopDone = false;
  let done = 0;
  const t0 = performance.now();
  const loop = runReindex(
    { stores: reindexApp.stores, engine: reindexApp.engine, def: index.reindexDef },
    index.targets.bind(started.state.next),
    {
      concurrency: opts.reindexConcurrency,
      signal: controller.signal,
      onProgress: (p) => {
        done = p.done;
        begin();
      },
    },
  ).finally(() => {
    loopDone = true;
    begin();
  });
  await begun;
  const stats = await runWriter(app, source, opts.writes, opts.writerConcurrency, () => loopDone);
  // The loop's rate over the writer's phase (documents it finished while the writer ran).
  const meanwhile = { reindexed: done, seconds: (performance.now() - t0) / 1000, finishedFirst: loopDone };
  controller.abort();
  await loop;
  await rollbackReindex(deps); // abandoned: the next round starts from nothing again
  return { stats, meanwhile };
}
