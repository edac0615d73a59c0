// The adapters' call timeout: a store call that exceeds its limit rejects with STORE_TIMEOUT
// (retryable; the write may still have applied, which idempotent writes tolerate). Built on the one
// timeout primitive (src/lib/timeout.ts), which never abandons a started call: see there why.
import { withTimeout as raceDeadline } from '../lib/timeout.js';
import { StoreError } from './errors.js';
import type { StoreName } from './types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

export function withTimeout<T>(
  store: StoreName,
  what: string,
  timeoutMs: number,
  work: () => Promise<T>,
  signal?: AbortSignal,
  graceMs: number = timeoutMs,
): Promise<T> {
  return raceDeadline(work, {
    timeoutMs,
    graceMs,
    ...(signal === undefined ? {} : { signal }),
    onAborted: () => new StoreError(store, 'STORE_TRANSIENT', `${what}: aborted before start`),
    onTimeout: () => new StoreError(store, 'STORE_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`),
  });
}
