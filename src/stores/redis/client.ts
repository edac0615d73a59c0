// One ioredis connection object for either topology (url.ts): a standalone `Redis`, or a `Cluster`
// that routes each command to the master of its key's slot. The cluster client follows MOVED/ASK
// and waits out TRYAGAIN/CLUSTERDOWN (the server refused the command, so re-sending it is safe),
// but never re-sends a command whose connection closed while it was in flight: it may have applied,
// and the saga decides what happens next (a late re-sent SET could resurrect a removed entry).
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { parseRedisUrl } from '../../lib/redis-url.js';

export type RedisConnection = Redis | Cluster;

/** Redirections (MOVED, ASK, TRYAGAIN, CLUSTERDOWN) one command may follow before it fails transient. */
const MAX_REDIRECTIONS = 16;
/** Keeps reconnecting in the background; calls meanwhile fail fast (no offline queue). */
const reconnectDelay = (times: number): number => Math.min(times * 200, 2_000);

export function openConnection(url: string, timeoutMs: number, natMap?: Record<string, { host: string; port: number }>): RedisConnection {
  const target = parseRedisUrl(url);
  const common = {
    maxRetriesPerRequest: 1,
    commandTimeout: timeoutMs,
    connectTimeout: Math.min(timeoutMs, 5_000),
    autoResendUnfulfilledCommands: false,
  };
  if (target.kind === 'standalone') {
    return new Redis(url, { ...common, lazyConnect: true, enableOfflineQueue: false, retryStrategy: reconnectDelay });
  }
  return new Cluster(target.seeds, {
    lazyConnect: true,
    // true, unlike the standalone client: with false, ioredis refuses a command sent to a node
    // whose connection is still opening ("Connection is closed."), e.g. the second of two parallel
    // MGETs. The queue only fills while the cluster is not ready, and the store refuses calls
    // then (clusterNotReady), so nothing waits in it to be sent late.
    enableOfflineQueue: true,
    maxRedirections: MAX_REDIRECTIONS,
    // 0 = a "Connection is closed" reply is returned to us, not re-sent after a slots refresh.
    retryDelayOnFailover: 0,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    clusterRetryStrategy: reconnectDelay,
    slotsRefreshTimeout: Math.min(timeoutMs, 5_000),
    // A killed master is noticed by the next refresh even when no reply says MOVED.
    slotsRefreshInterval: 2_000,
    ...(natMap ? { natMap } : {}),
    redisOptions: {
      ...common,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  });
}

/** Why a call must not be sent now: the cluster client is (re)connecting or refreshing from nothing. */
export function clusterNotReady(conn: RedisConnection): string | undefined {
  if (!isCluster(conn) || conn.status === 'ready') return undefined;
  return `the Redis Cluster connection is ${conn.status}`;
}

export function isCluster(conn: RedisConnection): conn is Cluster {
  return conn instanceof Cluster;
}

/**
 * The servers to SCAN: the standalone server, or every master of the cluster in the order of the
 * slots they serve (stable across a failover, where a replica takes over its master's slots).
 */
export function scanTargets(conn: RedisConnection): Redis[] {
  if (!isCluster(conn)) return [conn];
  const byKey = new Map<string, Redis>(conn.nodes('master').map((n) => [`${n.options.host ?? ''}:${n.options.port ?? ''}`, n]));
  const ordered: Redis[] = [];
  const seen = new Set<string>();
  for (const owners of conn.slots) {
    const key: string | undefined = owners?.[0];
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    const node = byKey.get(key);
    if (node) ordered.push(node);
  }
  return ordered.length > 0 ? ordered : [...byKey.values()];
}

/** Indexes of `keys` grouped so that each group can go in one command (one slot) or pipeline (one node). */
export function groupKeys(conn: RedisConnection, keys: readonly string[], by: 'slot' | 'node'): number[][] {
  if (!isCluster(conn)) return keys.length === 0 ? [] : [keys.map((_, i) => i)];
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const slot = calculateSlot(key);
    // ioredis accepts a pipeline whose keys share one owner list (master and replicas).
    const group = by === 'node' ? (conn.slots[slot]?.join(';') ?? `slot:${slot}`) : `slot:${slot}`;
    const members = groups.get(group);
    if (members) members.push(i);
    else groups.set(group, [i]);
  });
  return [...groups.values()];
}

/** Visits every key matching `pattern` on one server, one SCAN page at a time. */
export async function scanEach(node: Redis, pattern: string, visit: (keys: string[]) => Promise<void>): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await visit(keys);
  } while (cursor !== '0');
}
