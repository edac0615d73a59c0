// One call-timeout helper for every adapter: a store call that exceeds its limit rejects with
// STORE_TIMEOUT (retryable; the write may still have applied, which idempotent writes tolerate).
import { StoreError } from './errors.js';
import type { StoreName } from './types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Races `work` against a timer and the caller's AbortSignal. The underlying driver call is not
 * cancelled here (drivers have their own server-side limits); the caller just stops waiting.
 */
export async function withTimeout<T>(
  store: StoreName,
  what: string,
  timeoutMs: number,
  work: () => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) throw new StoreError(store, 'STORE_TRANSIENT', `${what}: aborted before start`);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StoreError(store, 'STORE_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    if (signal) {
      onAbort = () => reject(new StoreError(store, 'STORE_TRANSIENT', `${what}: aborted`));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  const running = work();
  // A late rejection of the abandoned call must not surface as an unhandled rejection.
  running.catch(() => undefined);
  try {
    return await Promise.race([running, guard]);
  } finally {
    if (timer) clearTimeout(timer);
    if (signal && onAbort) signal.removeEventListener('abort', onAbort);
  }
}
