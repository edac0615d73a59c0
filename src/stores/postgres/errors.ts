// How a pg / PGlite / socket error maps to a StoreError: which failures a retry can fix.
import { isStoreError, StoreError } from '../errors.js';
import { errorCode } from '../../lib/errors.js';

/**
 * SQLSTATE classes/codes after which the same call may succeed. 25006 read_only_sql_transaction:
 * the call reached a server that is (now) a standby, during a failover (a DNS name that still
 * points at the demoted primary, or a multi-host URL's chosen host that was demoted; the host is
 * then selected again, src/lib/pg-hosts.ts). Like admin_shutdown (57P01) and connection failures
 * it is retried within the outage budget, not compensated.
 */
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '55P03',
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '53200',
  '53100',
  '58000',
  '58030',
  '25006',
]);
const TRANSIENT_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Maps a pg / PGlite / socket error to a StoreError (fencing and timeouts pass through). */
export function classifyPgError(err: unknown, what: string): StoreError {
  if (isStoreError(err)) return err;
  const code = errorCode(err) ?? '';
  const message = err instanceof Error ? err.message : String(err);
  const summary = `${what} failed${code ? ` (${code})` : ''}: ${message}`;
  if (code === '57014' || /query read timeout/i.test(message)) return new StoreError('postgres', 'STORE_TIMEOUT', summary, { cause: err });
  if (TRANSIENT_SQLSTATES.has(code) || code.startsWith('08') || TRANSIENT_NODE_CODES.has(code)) {
    return new StoreError('postgres', 'STORE_TRANSIENT', summary, { cause: err });
  }
  if (
    /connection terminated|terminating connection|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|socket hang up/i.test(
      message,
    )
  ) {
    return new StoreError('postgres', 'STORE_TRANSIENT', summary, { cause: err });
  }
  return new StoreError('postgres', 'STORE_PERMANENT', summary, { cause: err });
}
