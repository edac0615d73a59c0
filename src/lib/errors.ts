// Reading an error's identity without `instanceof`. Two copies of this package in one process (an
// app and a library each installing it) have two `StoreError` classes, and `instanceof` says no
// across them; the stable `code` string and a brand registered with `Symbol.for` (one registry per
// process, shared by every copy) say yes. Every error class of ours calls `markError` in its
// constructor; the engine (src/saga/errors.ts) registers the same symbol on its own, since it
// imports nothing outside itself.

/** The brand: `Symbol.for` returns the same symbol to every copy of the package. */
export const APEX_ERROR = Symbol.for('apex-memory.error');

/** Brands `err` (non-enumerable: it never shows up in JSON or in a log line). */
export function markError<T extends object>(err: T): T {
  Object.defineProperty(err, APEX_ERROR, { value: true, enumerable: false, configurable: false, writable: false });
  return err;
}

/** True for an error built by any copy of this package (any of our error classes). */
export function isApexError(err: unknown): err is Error & { code: string } {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[APEX_ERROR] === true;
}

/**
 * The string `code` of anything thrown (ours, a driver's `'23505'`, Node's `'ENOENT'`), or
 * undefined. The one place that reads `.code` off an unknown value.
 */
export function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The error's own `retryable` flag when it carries one (a StoreError may override its code's default). */
export function errorRetryable(err: unknown): boolean | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const flag = (err as { retryable?: unknown }).retryable;
  return typeof flag === 'boolean' ? flag : undefined;
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
