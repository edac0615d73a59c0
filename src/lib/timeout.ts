// The one call-timeout primitive outside the engine: race a started call against a deadline, and on
// the deadline wait a grace period for the call to settle before reporting the timeout.
//
// Why an in-flight call is never abandoned: if the caller stopped waiting while the call went on
// (a store write, say), the saga could compensate first and the late write land after its
// compensation, leaving data behind. So a started call is always awaited, up to `graceMs` after the
// deadline; the abort signal only prevents calls that have not started. The engine has its own
// step timeout (src/saga/policy.ts withStepTimeout), which also cancels the step's scope; it cannot
// import this file.

export interface TimeoutOptions {
  timeoutMs: number;
  /** How long a timed-out call is still awaited before `onTimeout` is thrown (default: timeoutMs). */
  graceMs?: number;
  /** Checked before the call starts: an aborted signal throws `onAborted()` and starts nothing. */
  signal?: AbortSignal;
  onTimeout: () => Error;
  onAborted?: () => Error;
}

const TIMED_OUT = Symbol('timed out');

export async function withTimeout<T>(work: () => Promise<T>, opts: TimeoutOptions): Promise<T> {
  if (opts.signal?.aborted) throw opts.onAborted?.() ?? (opts.signal.reason as Error);
  const running = work();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), opts.timeoutMs);
  });
  try {
    const first = await Promise.race([running, deadline]);
    if (first !== TIMED_OUT) return first;
  } finally {
    clearTimeout(timer);
  }
  let grace: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    running.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      grace = setTimeout(resolve, opts.graceMs ?? opts.timeoutMs);
    }),
  ]);
  clearTimeout(grace);
  throw opts.onTimeout();
}
