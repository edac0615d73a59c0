// The writer's reads before a saga begins (who holds the document, what is committed) go to
// PostgreSQL too. While it is down they fail with a retryable StoreError; without this they would
// end the document as an error although the saga itself would have ridden the outage out. So
// they are retried the same way, within the first step's outage budget (sagas/outage-budget.ts).
import { isStoreError, type StoreError } from '../stores/errors.js';

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 5_000;

/** A store that is down or slow (not STORE_BUSY, which the sagas wait for themselves). */
function isOutage(err: unknown): err is StoreError {
  return isStoreError(err) && err.retryable && err.code !== 'STORE_BUSY';
}

/** The saga log down (a read of it before the saga, e.g. settling a dead run's saga; issue 22). */
function isLogOutage(err: unknown): boolean {
  const e = err as { code?: unknown; retryable?: unknown };
  return e.code === 'LOG_FAILURE' && e.retryable === true;
}

/**
 * Runs `work`, retrying store outages with capped, jittered backoff until `budgetMs` has passed
 * since the first attempt; `onWait(err)` before each pause, `onWait(undefined)` once it is over.
 */
export async function rideOut<T>(work: () => Promise<T>, budgetMs: number, onWait?: (err: StoreError | undefined) => void): Promise<T> {
  const started = Date.now();
  let waited = false;
  for (let attempt = 1; ; attempt++) {
    try {
      const out = await work();
      if (waited) onWait?.(undefined);
      return out;
    } catch (err) {
      const left = started + budgetMs - Date.now();
      const store = isOutage(err);
      if ((!store && !isLogOutage(err)) || left <= 0) {
        if (waited) onWait?.(undefined);
        throw err;
      }
      waited = true;
      if (store) onWait?.(err);
      const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt - 1, 16));
      await new Promise((resolve) => setTimeout(resolve, Math.min(left, Math.floor(Math.random() * ceiling))));
    }
  }
}
