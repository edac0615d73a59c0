// The worker's optional scheduled verify (--verify-every): runs the cross-store check on a timer
// and exports its violation counts (apex_drift_violations). One run at a time; a run that fails
// (a store down) logs one line and leaves the gauges at the last good run.
import { verifyStores } from '../ingest/verify.js';
import type { StoreSet } from '../stores/types.js';
import { recordVerify } from './drift.js';
import type { ApexMetrics } from './registry.js';

export function scheduleVerify(
  /** The stores as checks see them at each run (App.readView: the active index moves at a --switch). */
  view: () => Promise<{ stores: StoreSet; chunking: number }>,
  m: ApexMetrics,
  everyMs: number,
  warn: (line: string) => void,
): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const run = (): void => {
    if (running) return;
    running = view()
      .then((v) => verifyStores(v.stores, { chunking: v.chunking }))
      .then((report) => recordVerify(m, report))
      .catch((err: unknown) =>
        warn(`verify: run failed (${err instanceof Error ? err.message : 'unknown error'}); drift gauges keep the last run`),
      )
      .finally(() => {
        running = undefined;
      });
  };
  const first = setTimeout(run, Math.min(everyMs, 1_000));
  const timer = setInterval(run, everyMs);
  return {
    stop: async () => {
      clearTimeout(first);
      clearInterval(timer);
      await running;
    },
  };
}
