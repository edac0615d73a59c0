// REDIS_URL names either one server (`redis://` / `rediss://`, as ioredis parses it) or a Redis
// Cluster: `redis+cluster://[[user]:password@]host:port[,host:port...]` (`rediss+cluster://` for
// TLS). The nodes listed are only seeds: the client learns the rest from CLUSTER SLOTS. A cluster
// has no numbered databases, so a `/db` is refused instead of being ignored. No driver import here:
// src/config validates the setting with it at start.

export interface ClusterSeed {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; seeds: ClusterSeed[]; username?: string; password?: string; tls: boolean };

/** More seeds than this is a pasted list of something else, not a cluster's entry points. */
export const MAX_CLUSTER_SEEDS = 64;
const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\//i;
const DEFAULT_PORT = 6379;

/** A malformed REDIS_URL; the message names the setting and the limit, never the password. */
export class RedisUrlError extends Error {
  readonly code = 'CONFIG_INVALID'; // a setting's problem: config reports it naming REDIS_URL, exit 2
  readonly setting = 'REDIS_URL';
  constructor(message: string) {
    super(`REDIS_URL: ${message}`);
    this.name = 'RedisUrlError';
  }
}

export function isClusterUrl(url: string): boolean {
  return CLUSTER_SCHEME.test(url.trim());
}

function parseSeed(raw: string): ClusterSeed {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/.exec(raw.trim());
  if (!m?.[1]) throw new RedisUrlError(`cluster node ${JSON.stringify(raw.slice(0, 80))} is not host:port`);
  const port = m[2] === undefined ? DEFAULT_PORT : Number(m[2]);
  if (port < 1 || port > 65_535) throw new RedisUrlError(`cluster node port must be 1-65535, got ${m[2] ?? ''}`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`the ${what} is not valid percent-encoding`);
  }
}

/** Parses REDIS_URL; throws RedisUrlError for a malformed cluster URL. */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = CLUSTER_SCHEME.exec(url.trim());
  if (!scheme?.[1]) return { kind: 'standalone', url };
  const rest = url.trim().slice(scheme[0].length);
  // The password may hold '/', '?' or '#' percent-encoded only; the last '@' ends the credentials.
  const at = rest.lastIndexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const afterCreds = rest.slice(at + 1);
  const end = afterCreds.search(/[/?#]/);
  const hosts = end >= 0 ? afterCreds.slice(0, end) : afterCreds;
  const tail = end >= 0 ? afterCreds.slice(end) : '';
  if (/^\/\d+/.test(tail)) {
    throw new RedisUrlError(`a Redis Cluster has no numbered databases (only 0): remove ${JSON.stringify(tail.slice(0, 20))} from the URL`);
  }
  if (tail !== '' && tail !== '/') throw new RedisUrlError('a cluster URL takes no path, query or fragment after the node list');
  const list = hosts.split(',').filter((h) => h.trim() !== '');
  if (list.length === 0) throw new RedisUrlError('a cluster URL needs at least one host:port');
  if (list.length > MAX_CLUSTER_SEEDS) throw new RedisUrlError(`at most ${MAX_CLUSTER_SEEDS} cluster nodes, got ${list.length}`);
  const seeds = list.map(parseSeed);
  const colon = userinfo.indexOf(':');
  const user = colon >= 0 ? userinfo.slice(0, colon) : userinfo;
  const pass = colon >= 0 ? userinfo.slice(colon + 1) : '';
  return {
    kind: 'cluster',
    seeds,
    ...(user ? { username: decode(user, 'user name') } : {}),
    ...(pass ? { password: decode(pass, 'password') } : {}),
    tls: scheme[1].toLowerCase() === 'rediss',
  };
}

/** Where the store points, for health and status output: hosts only, never credentials. */
export function describeRedisUrl(url: string): string {
  try {
    const target = parseRedisUrl(url);
    if (target.kind === 'cluster') return `cluster ${target.seeds.map((s) => `${s.host}:${s.port}`).join(',')}`;
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'an unparsable REDIS_URL';
  }
}
