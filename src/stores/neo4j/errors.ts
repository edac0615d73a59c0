// How a Neo4j driver error maps to a StoreError: which failures a retry can fix (timeouts, lost
// connections, transient server states, and the topology changes of a cluster).
import neo4j from 'neo4j-driver';
import { isStoreError, StoreError } from '../errors.js';
import { errorCode } from '../../lib/errors.js';

// LockClientStopped, ClientError...Terminated: the server ended (rolled back) a transaction that
// waited on a lock past its time limit; permanent, they compensated sagas that only had to wait.
const TIMEOUT_CODES = /TransactionTimedOut|TransactionTimeout|Transaction\.LockClientStopped|ClientError\.Transaction\.Terminated/;

/*
 * Cluster topology changes (issue 24). A write that reaches a server that is no longer (or not
 * yet) the leader of the database fails with NotALeader (a cluster member) or
 * ForbiddenOnReadOnlyDatabase (a secondary, a read replica, a database being switched). With a
 * neo4j:// URL the driver itself turns both into SessionExpired and forgets that server, but a
 * bolt:// URL (direct) or an error raised inside a managed transaction's retry budget reaches us
 * with the server's code. Neither means the write is wrong: the next attempt, after the driver
 * refreshed its routing table, reaches the new leader. Routing-table failures (no router
 * answers, no writer known yet during an election) come as ServiceUnavailable/SessionExpired or
 * Neo.ClientError.Cluster.Routing. All of them are retryable: the saga rides them out within its
 * outage budget instead of compensating a document that only met an election.
 */
const TOPOLOGY_CODES = new Set([
  'Neo.ClientError.Cluster.NotALeader',
  'Neo.ClientError.General.ForbiddenOnReadOnlyDatabase',
  'Neo.ClientError.Cluster.Routing',
  'ServiceUnavailable',
  'SessionExpired',
]);

/** ServiceUnavailable / SessionExpired / Neo.TransientError.* / topology changes are retryable; the rest is permanent. */
export function classifyNeo4jError(err: unknown, what: string): StoreError {
  if (isStoreError(err)) return err;
  const code = errorCode(err) ?? '';
  const summary = `${what} failed${code ? ` (${code})` : ''}: ${err instanceof Error ? err.message : String(err)}`;
  if (TIMEOUT_CODES.test(code)) return new StoreError('neo4j', 'STORE_TIMEOUT', summary, { cause: err });
  const transient = neo4j.Neo4jError.isRetryable(err) || TOPOLOGY_CODES.has(code) || code.startsWith('Neo.TransientError.');
  return new StoreError('neo4j', transient ? 'STORE_TRANSIENT' : 'STORE_PERMANENT', summary, { cause: err });
}
