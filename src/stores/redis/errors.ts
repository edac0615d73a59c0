// Redis error classification. A reply error is the server refusing the command, so it was not
// applied: most are permanent (WRONGTYPE, a script error), but the cluster's redirections and
// its transitional states are not about the command at all.
import { isStoreError, StoreError } from '../errors.js';

/**
 * Replies that mean "try again (elsewhere or later)". MOVED and ASK reach us only when ioredis
 * gave up following them (too many redirections, or a standalone client talking to a cluster
 * node): a slot migrating or a failover in progress, never a reason to roll a document back.
 */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS|MOVED|ASK)\b/;

export function classifyRedisError(err: unknown, what: string): StoreError {
  if (isStoreError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const summary = `${what} failed: ${message}`;
  if (/command timed out/i.test(message)) return new StoreError('redis', 'STORE_TIMEOUT', summary, { cause: err });
  if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLIES.test(message)) {
    return new StoreError('redis', 'STORE_PERMANENT', summary, { cause: err });
  }
  // Anything that is not a server reply is about the connection (closed, refused, not writeable,
  // "Too many Cluster redirections").
  return new StoreError('redis', 'STORE_TRANSIENT', summary, { cause: err });
}
