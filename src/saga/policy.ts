// Retry policies (exponential backoff with full jitter) and the per-attempt timeout.
import { SagaError } from './errors.js';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** Decides whether an error is worth another attempt. */
  retryable: (err: unknown) => boolean;
}

/** Errors that say so (`retryable: true`, as StoreError and STEP_TIMEOUT do) are retried. */
export function isMarkedRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
}

export const DEFAULT_STEP_RETRY: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 20,
  maxDelayMs: 1_000,
  multiplier: 2,
  retryable: isMarkedRetryable,
};

/** After the pivot a step must eventually succeed: many attempts, any error retried. */
export const DEFAULT_RETRIABLE_RETRY: RetryPolicy = {
  maxAttempts: 25,
  initialDelayMs: 50,
  maxDelayMs: 5_000,
  multiplier: 2,
  retryable: () => true,
};

/** Compensations must succeed in the end: any error is retried until attempts run out (then stuck). */
export const DEFAULT_COMPENSATION_RETRY: RetryPolicy = {
  maxAttempts: 8,
  initialDelayMs: 50,
  maxDelayMs: 5_000,
  multiplier: 2,
  retryable: () => true,
};

export function resolvePolicy(base: RetryPolicy, override: Partial<RetryPolicy> | undefined): RetryPolicy {
  return override ? { ...base, ...override } : base;
}

/** Full jitter: uniform in [0, min(max, initial * multiplier^(attempt-1))]. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Runs `fn` with a signal that aborts when `parent` aborts or `timeoutMs` passes. A timed-out
 * attempt rejects with STEP_TIMEOUT at once, even if `fn` ignores its signal: the engine then
 * treats the step as "maybe applied".
 */
export function withTimeout<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number | undefined,
  parent: AbortSignal,
  label: string,
): Promise<T> {
  if (parent.aborted) return Promise.reject(parent.reason as unknown);
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      parent.removeEventListener('abort', onParentAbort);
    };
    const onParentAbort = (): void => {
      finish();
      controller.abort(parent.reason);
      reject(parent.reason as unknown);
    };
    parent.addEventListener('abort', onParentAbort, { once: true });
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        finish();
        const err = new SagaError('STEP_TIMEOUT', `${label} timed out after ${timeoutMs} ms`, { retryable: true });
        controller.abort(err);
        reject(err);
      }, timeoutMs);
    }
    let result: Promise<T>;
    try {
      result = fn(controller.signal);
    } catch (err) {
      finish();
      reject(err);
      return;
    }
    result.then(
      (value) => {
        finish();
        resolve(value);
      },
      (err: unknown) => {
        finish();
        reject(err);
      },
    );
  });
}
