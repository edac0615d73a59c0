// One call-timeout helper for every adapter: a store call that exceeds its limit rejects with
// STORE_TIMEOUT (retryable; the write may still have applied, which idempotent writes tolerate).
//
// Why an in-flight call is never abandoned: if the caller stopped waiting (on abort or timeout)
// while the driver call went on, the saga could compensate first and the late write land after
// its compensation, leaving data behind. So a started call is always awaited: the abort signal
// only prevents calls that have not started, and a timed-out call is awaited a little longer
// (the server-side limits each adapter sets end it) before STORE_TIMEOUT is reported.
import { StoreError } from './errors.js';
import type { StoreName } from './types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;

const TIMED_OUT = Symbol('timed out');

export async function withTimeout<T>(
  store: StoreName,
  what: string,
  timeoutMs: number,
  work: () => Promise<T>,
  signal?: AbortSignal,
  graceMs: number = timeoutMs,
): Promise<T> {
  if (signal?.aborted) throw new StoreError(store, 'STORE_TRANSIENT', `${what}: aborted before start`);
  const running = work();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  try {
    const first = await Promise.race([running, deadline]);
    if (first !== TIMED_OUT) return first;
  } finally {
    clearTimeout(timer);
  }
  let grace: NodeJS.Timeout | undefined;
  await Promise.race([
    running.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      grace = setTimeout(resolve, graceMs);
    }),
  ]);
  clearTimeout(grace);
  throw new StoreError(store, 'STORE_TIMEOUT', `${what}: no answer within ${timeoutMs} ms`);
}
