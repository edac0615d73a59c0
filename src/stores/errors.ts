// Store errors carry a stable code and whether a retry can help. The saga engine reads `code`
// and `retryable` off any thrown error, so adapters classify every driver error into one of these.
import { isApexError, markError } from '../lib/errors.js';
import { redactCredentials } from '../lib/redact.js';
import type { StoreName } from './types.js';

export type StoreErrorCode =
  | 'STORE_TRANSIENT' // connection refused/reset, timeout, deadlock, serialization failure: retry
  | 'STORE_TIMEOUT' // the call exceeded its time limit: retry; the write may have applied
  | 'STORE_PERMANENT' // constraint violation, bad request, auth: retrying will not help
  | 'STORE_FENCED' // a newer owner of the same saga has written: this owner must stop
  | 'STORE_CONFLICT' // another writer changed the document since this write was planned
  | 'STORE_BUSY' // another unfinished saga holds the document (single-writer rule): wait, then retry
  | 'STORE_INJECTED'; // raised by the fault-injection wrapper (tests, benches)

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retryable: boolean;
  readonly store: StoreName;
  constructor(store: StoreName, code: StoreErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    // Redacted here, at the source: the message becomes a saga's failure reason in the durable log,
    // and every view of the log (CLI, API, dashboard) shows it. Driver messages can echo a URL.
    super(redactCredentials(`${store}: ${message}`), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.store = store;
    this.code = code;
    this.retryable = options?.retryable ?? (code === 'STORE_TRANSIENT' || code === 'STORE_TIMEOUT' || code === 'STORE_BUSY');
    markError(this);
  }
}

export function isStoreError(err: unknown): err is StoreError {
  // Brand and name, not instanceof: a StoreError from another copy of the package counts too.
  return isApexError(err) && err.name === 'StoreError';
}
