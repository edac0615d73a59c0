// Metrics read at scrape time from durable state rather than counted from events: stuck sagas
// (from the saga log, so a worker started after a saga got stuck still reports it) and pending
// documents (from PostgreSQL). Also the saga log's commit reports (latency, group-commit size).
import type { SagaLogBackend } from '../saga/index.js';
import type { RelationalStore } from '../stores/types.js';
import type { ApexMetrics } from './registry.js';

/**
 * Stuck sagas per saga name. `names` are the sagas this process knows (each gets a 0 series, so
 * an alert can tell "none stuck" from "no data").
 */
export function watchStuck(m: ApexMetrics, log: SagaLogBackend, names: () => readonly string[]): void {
  m.onScrape(async () => {
    const counts = await Promise.all(names().map(async (saga) => [saga, await log.count({ status: 'stuck', name: saga })] as const));
    m.sagasStuck.reset();
    for (const [saga, n] of counts) m.sagasStuck.set({ saga }, n);
  });
}

/** Pending documents and the oldest one's age (RelationalStore.pendingStats). */
export function watchPending(m: ApexMetrics, postgres: RelationalStore, now: () => number = Date.now): void {
  m.onScrape(async () => {
    const stats = await postgres.pendingStats();
    m.documentsPending.set(stats.pending);
    m.oldestPendingAge.set(stats.oldestPendingAt ? Math.max(0, (now() - stats.oldestPendingAt.getTime()) / 1000) : 0);
  });
}

/** Subscribes to the log's commit reports (log.onCommit): latency and group-commit size. */
export function watchCommits(m: ApexMetrics, log: SagaLogBackend): void {
  const previous = log.onCommit;
  log.onCommit = (e) => {
    previous?.(e);
    m.logCommitDuration.observe(e.durationMs / 1000);
    m.logCommitRecords.observe(e.records);
    m.logCommitSagas.observe(e.sagas);
  };
}
