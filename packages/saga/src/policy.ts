// Retry policies (exponential backoff with full jitter) and the per-attempt timeout.
import type { CancelScope } from './cancel.js';
import { SagaError } from './errors.js';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  maxAttempts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** Decides whether an error is worth another attempt. */
  retryable: (err: unknown) => boolean;
  /**
   * Time budget: keep retrying a retryable error until this long after the step's first attempt
   * (stored in the log, so it survives crashes). With a budget, maxAttempts defaults to unbounded.
   */
  budgetMs?: number;
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
  if (!override) return base;
  const policy = { ...base, ...override };
  if (override.budgetMs !== undefined && override.maxAttempts === undefined) policy.maxAttempts = Infinity;
  return policy;
}

/** Full jitter: uniform in [0, min(max, initial * multiplier^(attempt-1))]. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.min(attempt - 1, 64));
  return Math.floor(random() * ceiling);
}

/** How long a cancelled or timed-out attempt may take to settle before the engine moves on. */
export const DEFAULT_SETTLE_GRACE_MS = 15_000;

/**
 * Runs `fn` in a child scope of `parent` that is cancelled when the parent is, or when
 * `timeoutMs` passes; the attempt then rejects with that reason (STEP_TIMEOUT for a timeout).
 *
 * Why it waits after cancelling: a write that was cancelled may still land (a request already
 * on the wire). If the engine compensated at once, the late write could arrive after its
 * compensation and leave data behind. So a cancelled attempt rejects only once its promise has
 * settled, or after `graceMs` if it ignores its signal; the step then counts as "maybe applied".
 */
export function withTimeout<T>(
  fn: (scope: CancelScope) => Promise<T>,
  timeoutMs: number | undefined,
  parent: CancelScope,
  label: string,
  graceMs: number = DEFAULT_SETTLE_GRACE_MS,
): Promise<T> {
  if (parent.cancelled) return Promise.reject(parent.reason as unknown);
  const { scope, dispose } = parent.child();
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let settled = false;
    let result: Promise<T> | undefined;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) clearTimeout(timer);
      dispose();
      unsubscribe();
      return true;
    };
    const stop = (reason: unknown): void => {
      if (!finish()) return;
      if (!result) return reject(reason);
      const grace = setTimeout(() => reject(reason), graceMs);
      const after = (): void => {
        clearTimeout(grace);
        reject(reason);
      };
      result.then(after, after);
    };
    const unsubscribe = scope.onCancel(stop);
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      timer = setTimeout(() => {
        const err = new SagaError('STEP_TIMEOUT', `${label} timed out after ${timeoutMs} ms`, { retryable: true });
        scope.cancel(err);
      }, timeoutMs);
    }
    try {
      result = fn(scope);
    } catch (err) {
      if (finish()) reject(err);
      return;
    }
    result.then(
      (value) => {
        if (finish()) resolve(value);
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
  });
}
