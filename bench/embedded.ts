// The README's main job on the embedded profile, first run: a fresh data directory, then
// `apex-memory ingest examples/corpus` through the same code the CLI runs (openApp + runIngest).
// Reports the opening time (PGlite's data directory, the SQLite files) apart from the ingest, and
// where the sagas wait: time per store call and per saga step.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../src/app.js';
import { runIngest } from '../src/cli/ingest-run.js';
import { StoreTimer, type CallRow } from './timing.js';

export interface EmbeddedBenchOptions {
  corpus: string;
  concurrency: number;
  plan?: 'default' | 'adr';
  /** Print the per-call table to stderr. */
  verbose?: boolean;
}

export interface EmbeddedRow {
  name: string;
  concurrency: number;
  n: number;
  open_ms: number;
  ingest_ms: number;
  first_run_ms: number;
  throughput_per_s: number;
  first_run_docs_per_s: number;
  /** CPU time of the whole process (all threads: PGlite, the SQLite stand-ins, the saga log's
   * worker) during the ingest, per document: unlike docs/s it barely moves when other processes
   * share the machine. */
  ingest_cpu_ms_per_doc: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  completed: number;
  steps_ms: Record<string, number>;
  store_calls: CallRow[];
}

export async function benchEmbedded(opts: EmbeddedBenchOptions): Promise<EmbeddedRow> {
  const dataDir = mkdtempSync(join(tmpdir(), 'apex-bench-embedded-'));
  const timer = new StoreTimer();
  const steps = new Map<string, number>();
  const t0 = performance.now();
  const app = await openApp({
    env: {},
    dataDir,
    plan: opts.plan ?? 'default',
    wrapStores: (s) => timer.wrap(s),
    hooks: { onStepEnd: (e) => void steps.set(e.step, (steps.get(e.step) ?? 0) + e.durationMs) },
  });
  const opened = performance.now();
  try {
    const cpu0 = process.cpuUsage();
    const tally = await runIngest(app, [opts.corpus], { concurrency: opts.concurrency });
    const s = tally.finish().summary();
    const ingested = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const n = s.completed + s.compensated + s.stuck;
    const row: EmbeddedRow = {
      name: `embedded ${opts.plan ?? 'default'}`,
      concurrency: opts.concurrency,
      n,
      open_ms: +(opened - t0).toFixed(0),
      ingest_ms: +(ingested - opened).toFixed(0),
      first_run_ms: +(ingested - t0).toFixed(0),
      throughput_per_s: +(n / ((ingested - opened) / 1000)).toFixed(1),
      first_run_docs_per_s: +(n / ((ingested - t0) / 1000)).toFixed(1),
      ingest_cpu_ms_per_doc: +((cpu.user + cpu.system) / 1000 / Math.max(1, n)).toFixed(2),
      p50_ms: s.latencyMs.p50 ?? 0,
      p90_ms: s.latencyMs.p90 ?? 0,
      p99_ms: s.latencyMs.p99 ?? 0,
      completed: s.completed,
      steps_ms: Object.fromEntries([...steps].map(([k, v]) => [k, +v.toFixed(0)])),
      store_calls: timer.rows(),
    };
    if (opts.verbose) console.error(JSON.stringify(row, null, 1));
    return row;
  } finally {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
