// Metrics read at scrape time from durable state rather than counted from events: stuck sagas
// (from the saga log, so a worker started after a saga got stuck still reports it) and pending
// documents (from PostgreSQL). Also the saga log's commit reports (latency, group-commit size).
import type { SagaLog, SagaStatus } from '../saga/index.js';
import type { RelationalStore } from '../stores/types.js';
import type { ApexMetrics } from './registry.js';

/** The log's optional count (SagaLog.count, where the backend has it) and commit report. */
interface ObservableLog {
  count?: (filter: { status?: SagaStatus; name?: string }) => Promise<number>;
  onCommit?: (e: { records: number; sagas: number; durationMs: number }) => void;
}

/** The relational store's optional scrape-time summary of pending versions. */
interface PendingSource {
  pendingStats?: () => Promise<{ pending: number; oldestPendingAt: Date | null }>;
}

const LIST_CAP = 100_000;

/**
 * Stuck sagas per saga name. `names` are the sagas this process knows (each gets a 0 series, so
 * an alert can tell "none stuck" from "no data").
 */
export function watchStuck(m: ApexMetrics, log: SagaLog, names: () => readonly string[]): void {
  const counting = log as SagaLog & ObservableLog;
  m.onScrape(async () => {
    const known = names();
    const counts = new Map<string, number>(known.map((n) => [n, 0]));
    if (typeof counting.count === 'function') {
      for (const name of known) counts.set(name, await counting.count.call(log, { status: 'stuck', name }));
    } else {
      for (const s of await log.list({ status: 'stuck', limit: LIST_CAP })) counts.set(s.name, (counts.get(s.name) ?? 0) + 1);
    }
    m.sagasStuck.reset();
    for (const [saga, n] of counts) m.sagasStuck.set({ saga }, n);
  });
}

/** Pending documents and the oldest one's age, when the store can tell (RelationalStore.pendingStats). */
export function watchPending(m: ApexMetrics, postgres: RelationalStore, now: () => number = Date.now): boolean {
  const source = postgres as RelationalStore & PendingSource;
  if (typeof source.pendingStats !== 'function') return false;
  m.onScrape(async () => {
    const stats = await source.pendingStats!.call(postgres);
    m.documentsPending.set(stats.pending);
    m.oldestPendingAge.set(stats.oldestPendingAt ? Math.max(0, (now() - stats.oldestPendingAt.getTime()) / 1000) : 0);
  });
  return true;
}

/** Subscribes to the log's commit reports (log.onCommit); a backend that makes none leaves them empty. */
export function watchCommits(m: ApexMetrics, log: SagaLog): void {
  const observable = log as SagaLog & ObservableLog;
  const previous = observable.onCommit;
  observable.onCommit = (e) => {
    previous?.(e);
    m.logCommitDuration.observe(e.durationMs / 1000);
    m.logCommitRecords.observe(e.records);
    m.logCommitSagas.observe(e.sagas);
  };
}
