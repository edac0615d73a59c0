// Removes the Neo4j WriteFence nodes of sagas that ended long ago (issue 24), so that fences stay
// bounded. Run by `apex-memory vacuum` (docs/stores.md, "Fencing", Growth).
//
// Why it is safe. A fence exists to refuse a stale owner's late write: an owner whose lease ran
// out while it was stalled, and whose saga another owner then took over (higher token). Such an
// owner can only have started its write while it still held the lease (the engine aborts a run
// whose lease it could not renew, heartbeat.ts), and a saga that has ended (completed or
// compensated: final) is never claimed again, so nobody holds or can obtain a lease on it after
// its end. A fence is removed only when BOTH
//   - its saga ended more than FENCE_SWEEP_LEASES leases ago by the log (or the log no longer knows
//     it: `sagas prune` removed it, which it does only to ended sagas), and
//   - nothing wrote to the fence for as long (the store's own clock; a write refused by the fence
//     still stamps it, so a stale owner that keeps knocking keeps its fence),
// so the only write it could still let through is one that a process started while it held the
// lease and then froze for more than N leases in the middle of sending (N = 1000: 8 h 20 min at
// the default 30 s lease). Even that write cannot reach readers (every read is keyed by the
// version PostgreSQL names); `verify` would report it and `repair` remove it.
import type { SagaLog } from '../saga/index.js';
import { isFinal } from '../saga/index.js';
import type { GraphStore, StoredFence } from '../stores/types.js';

/** How many leases after its saga's end (and its last write) a fence is kept. */
export const FENCE_SWEEP_LEASES = 1000;

const PAGE = 500;

export interface FenceSweepResult {
  scanned: number;
  removed: number;
}

export interface FenceSweepOptions {
  /** The fleet's lease (APEX_LEASE_MS): run the sweep with the longest lease any worker uses. */
  leaseMs: number;
  /** Overrides FENCE_SWEEP_LEASES (tests). */
  leases?: number;
  /** The log's clock (epoch ms), compared with the saga's endedAt; default Date.now. */
  now?: () => number;
}

/** One pass over every fence; returns how many were scanned and removed. No-op for unfenced stores. */
export async function sweepFences(graph: GraphStore, log: Pick<SagaLog, 'load'>, opts: FenceSweepOptions): Promise<FenceSweepResult> {
  const scan = graph.scanFences?.bind(graph);
  const drop = graph.dropFences?.bind(graph);
  if (!scan || !drop) return { scanned: 0, removed: 0 };
  const keepMs = (opts.leases ?? FENCE_SWEEP_LEASES) * opts.leaseMs;
  const now = opts.now ?? Date.now;
  const result: FenceSweepResult = { scanned: 0, removed: 0 };
  for (let after: StoredFence | null = null; ; ) {
    const page = await scan(after, PAGE);
    result.scanned += page.length;
    const old = page.filter((f) => f.ageMs > keepMs);
    const ended = new Map<string, boolean>();
    for (const sagaId of new Set(old.map((f) => f.sagaId))) {
      const saga = await log.load(sagaId);
      // Unknown to the log: pruned (only ended sagas are), and the fence is old by the store's clock.
      ended.set(sagaId, saga === undefined || (isFinal(saga.status) && now() - (saga.endedAt ?? saga.updatedAt) > keepMs));
    }
    result.removed += await drop(old.filter((f) => ended.get(f.sagaId) === true));
    if (page.length < PAGE) return result;
    after = page[page.length - 1] ?? null;
  }
}
