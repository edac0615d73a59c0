// Injectable time, sleep and randomness: tests and simulations replace them to be deterministic.

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
  /**
   * Calls `fn` once after `ms`; the returned function cancels it. The engine's step timeouts,
   * settle grace and saga deadlines use it, so a simulated clock that implements it controls them.
   * A Clock without it leaves those timers on real time (setTimeout), as before this existed.
   * `unref`: the timer does not keep the process alive (saga deadlines, which may be far away).
   */
  timer?(ms: number, fn: () => void, opts?: { unref?: boolean }): () => void;
}

/** A one-shot timer on `clock` (see Clock.timer); real time when the clock has none. */
export function startTimer(clock: Clock, ms: number, fn: () => void, opts: { unref?: boolean } = {}): () => void {
  if (clock.timer) return clock.timer(ms, fn, opts);
  return realTimer(ms, fn, opts);
}

function realTimer(ms: number, fn: () => void, opts: { unref?: boolean } = {}): () => void {
  // setTimeout takes at most 2^31-1 ms; a longer wait would fire at once.
  const t = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
  if (opts.unref) (t as { unref?: () => void }).unref?.();
  return () => clearTimeout(t);
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
  random: () => Math.random(),
  timer: realTimer,
};

/** A seeded generator (mulberry32) for reproducible tests: same seed, same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
