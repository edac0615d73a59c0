// Every Prometheus metric Apex Memory exports, in one registry per process (never prom-client's
// global one, so tests and embedders can hold several). Names follow Prometheus conventions: base
// units (seconds), `_total` on counters, and low-cardinality labels only: saga and step names
// come from saga definitions, stores and operations from the store interfaces, outcomes from
// fixed lists. A saga id or document id is never a label (test/unit/metrics-cardinality.test.ts).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** 1 ms .. 30 s, with 1 s and 2 s as bucket edges so the targets (P90 < 1 s, alert > 2 s) are exact. */
export const SAGA_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30];
/** Store calls and log commits are shorter: 0.1 ms .. 10 s. */
export const FAST_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
/** Records (or sagas) per group commit. */
export const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];

export interface MetricsOptions {
  /** Also export prom-client's process and Node.js metrics (process_*, nodejs_*). */
  defaultMetrics?: boolean;
  /** Constant labels on every series (e.g. { instance_role: 'worker' }); keep them few. */
  labels?: Record<string, string>;
}

export class ApexMetrics {
  readonly registry = new Registry();

  readonly sagasStarted: Counter<'saga' | 'resumed'>;
  readonly sagasFinished: Counter<'saga' | 'outcome'>;
  readonly sagaDuration: Histogram<'saga' | 'outcome'>;
  readonly sagasInFlight: Gauge<'saga'>;
  readonly sagasStuck: Gauge<'saga'>;
  readonly stepDuration: Histogram<'saga' | 'step' | 'phase' | 'outcome'>;
  readonly retries: Counter<'saga' | 'step' | 'phase'>;
  readonly compensations: Counter<'saga' | 'step' | 'outcome'>;
  readonly logCommitDuration: Histogram<string>;
  readonly logCommitRecords: Histogram<string>;
  readonly logCommitSagas: Histogram<string>;
  readonly storeDuration: Histogram<'store' | 'operation' | 'outcome'>;
  readonly fencedWrites: Counter<'store'>;
  readonly leaseEvents: Counter<'event'>;
  readonly consistencyWindow: Histogram<'saga'>;
  readonly documentsPending: Gauge<string>;
  readonly oldestPendingAge: Gauge<string>;
  readonly driftViolations: Gauge<'kind'>;
  readonly verifyLastRun: Gauge<string>;
  readonly heartbeat: Gauge<string>;
  readonly scrapeErrors: Counter<string>;
  /** apex_namespace_info{namespace} 1: an info metric, not a label on every series (cheaper). */
  readonly namespaceInfo: Gauge<'namespace'>;

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    if (opts.labels) this.registry.setDefaultLabels(opts.labels);
    if (opts.defaultMetrics === true) collectDefaultMetrics({ register: this.registry });

    this.sagasStarted = new Counter({
      name: 'apex_saga_started_total',
      help: 'Sagas started by this process; resumed="true" for sagas recovered or claimed from the log.',
      labelNames: ['saga', 'resumed'],
      registers,
    });
    this.sagasFinished = new Counter({
      name: 'apex_saga_finished_total',
      help: 'Sagas that ended in this process, by outcome (completed, compensated, stuck, cancelled, fenced, shutdown, error).',
      labelNames: ['saga', 'outcome'],
      registers,
    });
    this.sagaDuration = new Histogram({
      name: 'apex_saga_duration_seconds',
      help: 'Saga duration from start (or resume) in this process to its end, by outcome.',
      labelNames: ['saga', 'outcome'],
      buckets: SAGA_BUCKETS,
      registers,
    });
    this.sagasInFlight = new Gauge({
      name: 'apex_sagas_in_flight',
      help: 'Sagas running in this process now.',
      labelNames: ['saga'],
      registers,
    });
    this.sagasStuck = new Gauge({
      name: 'apex_sagas_stuck',
      help: 'Sagas in status stuck in the saga log (read from the log at scrape time; waits for an operator).',
      labelNames: ['saga'],
      registers,
    });
    this.stepDuration = new Histogram({
      name: 'apex_saga_step_duration_seconds',
      help: 'One attempt of a step (phase="run") or of its compensation (phase="compensate"), by outcome (ok, error).',
      labelNames: ['saga', 'step', 'phase', 'outcome'],
      buckets: SAGA_BUCKETS,
      registers,
    });
    this.retries = new Counter({
      name: 'apex_saga_step_retries_total',
      help: 'Retries scheduled after a failed attempt, by phase (run or compensate).',
      labelNames: ['saga', 'step', 'phase'],
      registers,
    });
    this.compensations = new Counter({
      name: 'apex_saga_compensations_total',
      help: 'Compensation attempts by outcome: succeeded, or failed (retried, or the saga went stuck).',
      labelNames: ['saga', 'step', 'outcome'],
      registers,
    });
    this.logCommitDuration = new Histogram({
      name: 'apex_saga_log_commit_duration_seconds',
      help: 'Latency of one durable commit of the saga log (a group commit).',
      buckets: FAST_BUCKETS,
      registers,
    });
    this.logCommitRecords = new Histogram({
      name: 'apex_saga_log_commit_records',
      help: 'Records written by one group commit of the saga log.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.logCommitSagas = new Histogram({
      name: 'apex_saga_log_commit_sagas',
      help: 'Sagas that shared one group commit of the saga log.',
      buckets: BATCH_BUCKETS,
      registers,
    });
    this.storeDuration = new Histogram({
      name: 'apex_store_request_duration_seconds',
      help: 'One call to a store adapter, by store, operation (the adapter method) and outcome (ok, error, fenced).',
      labelNames: ['store', 'operation', 'outcome'],
      buckets: FAST_BUCKETS,
      registers,
    });
    this.fencedWrites = new Counter({
      name: 'apex_store_fenced_writes_total',
      help: 'Writes a store refused because a newer lease token of the same saga had written (STORE_FENCED).',
      labelNames: ['store'],
      registers,
    });
    this.leaseEvents = new Counter({
      name: 'apex_saga_lease_events_total',
      help: 'Lease events of this process: claim (a saga taken from the log), takeover (from another owner), lost (fenced out).',
      labelNames: ['event'],
      registers,
    });
    this.consistencyWindow = new Histogram({
      name: 'apex_consistency_window_seconds',
      help: 'Time a document version stays pending: end of postgres_pending to end of postgres_commit, per saga.',
      labelNames: ['saga'],
      buckets: SAGA_BUCKETS,
      registers,
    });
    this.documentsPending = new Gauge({
      name: 'apex_documents_pending',
      help: 'Document versions pending in PostgreSQL (read at scrape time).',
      registers,
    });
    this.oldestPendingAge = new Gauge({
      name: 'apex_documents_pending_oldest_age_seconds',
      help: 'Age of the oldest pending document version in PostgreSQL (0 when none; read at scrape time).',
      registers,
    });
    this.driftViolations = new Gauge({
      name: 'apex_drift_violations',
      help: 'Cross-store invariant violations found by the last verify run, by kind.',
      labelNames: ['kind'],
      registers,
    });
    this.verifyLastRun = new Gauge({
      name: 'apex_verify_last_run_timestamp_seconds',
      help: 'When the last verify run that fed apex_drift_violations ended (Unix time).',
      registers,
    });
    // APEX_NAMESPACE as an info metric: joined in queries (`* on(instance) group_left(namespace)`)
    // where needed, instead of a constant label multiplying into every series. "" = no namespace.
    this.namespaceInfo = new Gauge({
      name: 'apex_namespace_info',
      help: 'Always 1; the label names the APEX_NAMESPACE of this process ("" without one).',
      labelNames: ['namespace'],
      registers,
    });
    this.heartbeat = new Gauge({
      name: 'apex_worker_heartbeat_timestamp_seconds',
      help: 'Last time the worker loop of this process was alive (Unix time); absent outside workers.',
      registers,
    });
    // Absent until set: a 0 would read as "1970" (a verify 56 years ago, a dead worker in a
    // process that is no worker at all). prom-client gives a label-less gauge a 0 sample from
    // the start; emptying its map makes it absent until the first set().
    absentUntilSet(this.verifyLastRun);
    absentUntilSet(this.heartbeat);
    this.scrapeErrors = new Counter({
      name: 'apex_metrics_scrape_errors_total',
      help: 'Scrape-time reads (saga log, PostgreSQL) that failed; their gauges keep the last value.',
      registers,
    });
  }

  private readonly scrapeHooks: Array<() => Promise<void>> = [];

  /** Runs `fn` before every scrape or push (for values read from the log or PostgreSQL). */
  onScrape(fn: () => Promise<void>): void {
    this.scrapeHooks.push(fn);
  }

  /** Runs the scrape hooks. One that fails leaves its metrics at their last value and counts an error. */
  async refresh(): Promise<void> {
    await Promise.all(
      this.scrapeHooks.map((fn) =>
        fn().catch(() => {
          this.scrapeErrors.inc();
        }),
      ),
    );
  }

  /** The text exposition format, as served on /metrics (scrape hooks run first). */
  async text(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** Removes a label-less gauge's initial 0 sample (test/unit/metrics-fresh-worker.test.ts checks it). */
function absentUntilSet(g: Gauge): void {
  (g as unknown as { hashMap: Record<string, unknown> }).hashMap = {};
}
