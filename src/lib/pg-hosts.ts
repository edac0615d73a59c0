// Multi-host PostgreSQL URLs with read-write selection (issue 24), for the document store's pool
// and the saga log's pools. node-postgres 8 has neither multi-host URLs nor libpq's
// target_session_attrs, so this module does the choosing and each adapter's pg Client subclass
// (postgres/hosts.ts in src/stores and src/log) asks it where to connect. Driver-free: the probe
// that opens a connection is given by the adapter.
//
// Format (libpq's, restricted to what is implemented):
//   postgresql://user:password@host1:5432,host2:5433,[::1]:5434/db?target_session_attrs=read-write
// - hosts are tried in the order given; a host without a port takes 5432;
// - target_session_attrs: `read-write` (the default when more than one host is given) keeps the
//   first host where `pg_is_in_recovery()` is false and transactions are not read-only by default
//   (libpq's test); `any` (the default for one host) keeps
//   the first host that accepts a connection. Other libpq values are refused by name.
// - the other query parameters (sslmode, ...) are passed on to every host.
// A URL with one host and no target_session_attrs is handed to pg untouched: nothing changes.
//
// Selection is remembered per URL in this process and redone when a connection to the chosen
// host fails (refused, reset, timed out) or a statement there answers read_only_sql_transaction
// (25006: the host was demoted): the next new connection tries the hosts in order again. Calls
// that fail meanwhile fail as transient (the saga rides them out within its outage budget).
import { markError } from './errors.js';

export interface PgHost {
  host: string;
  port: number;
}

export type TargetSessionAttrs = 'any' | 'read-write';

export interface MultiHostUrl {
  hosts: PgHost[];
  target: TargetSessionAttrs;
  /** The URL for pg: the first host, target_session_attrs removed (the client sets host/port per connection). */
  url: string;
  /** False for a single-host URL without target_session_attrs: pg gets it unchanged, no selection. */
  selects: boolean;
}

/** More hosts than this is a typo or a list meant for something else. */
export const MAX_PG_HOSTS = 16;

/** A malformed multi-host URL: names the setting and what is wrong; never echoes the password. */
export class PgUrlError extends Error {
  readonly code = 'CONFIG_INVALID' as const;
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'PgUrlError';
    this.setting = setting;
    markError(this);
  }
}

const AUTHORITY = /^(postgres(?:ql)?:\/\/)([^/?#]*)(.*)$/i;

function parseHost(raw: string, setting: string): PgHost {
  const m = /^\[([^\]]+)\](?::(\d*))?$/.exec(raw) ?? /^([^:[\]]+)(?::(\d*))?$/.exec(raw);
  if (!m?.[1]) throw new PgUrlError(setting, `host ${JSON.stringify(raw.slice(0, 80))} is not host, host:port or [ipv6]:port`);
  const port = m[2] === undefined || m[2] === '' ? 5432 : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new PgUrlError(setting, `port of host ${JSON.stringify(m[1])} must be from 1 to 65535, got ${JSON.stringify(m[2])}`);
  return { host: m[1], port };
}

/** Parses a PostgreSQL URL that may name several hosts; throws PgUrlError naming `setting`. */
export function parseMultiHostUrl(raw: string, setting = 'DATABASE_URL'): MultiHostUrl {
  const m = AUTHORITY.exec(raw);
  if (!m) return { hosts: [], target: 'any', url: raw, selects: false }; // not a URL: pg reports it
  const [, scheme = '', authority = '', rest = ''] = m;
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at + 1) : '';
  const hostList = authority.slice(at + 1);
  const queryAt = rest.indexOf('?');
  const params = new URLSearchParams(queryAt >= 0 ? rest.slice(queryAt + 1) : '');
  const attrs = params.get('target_session_attrs');
  if (attrs !== null && attrs !== 'any' && attrs !== 'read-write')
    throw new PgUrlError(setting, `target_session_attrs must be read-write or any, got ${JSON.stringify(attrs.slice(0, 40))}`);
  const parts = hostList.split(',');
  if (parts.length === 1 && attrs === null)
    return { hosts: hostList ? [parseHost(hostList, setting)] : [], target: 'any', url: raw, selects: false };
  if (parts.length > MAX_PG_HOSTS) throw new PgUrlError(setting, `at most ${MAX_PG_HOSTS} hosts, got ${parts.length}`);
  const hosts = parts.map((p) => parseHost(p.trim(), setting));
  params.delete('target_session_attrs');
  const query = params.toString();
  const path = queryAt >= 0 ? rest.slice(0, queryAt) : rest;
  const first = hosts[0] as PgHost; // split always yields one part at least
  const hostText = first.host.includes(':') ? `[${first.host}]` : first.host;
  return {
    hosts,
    target: (attrs ?? (hosts.length > 1 ? 'read-write' : 'any')) as TargetSessionAttrs,
    url: `${scheme}${userinfo}${hostText}:${first.port}${path}${query ? `?${query}` : ''}`,
    selects: true,
  };
}

/** Opens a connection to one host and answers whether it is read-only (a standby); see pg-select-client.ts. */
export type RecoveryProbe = (host: PgHost) => Promise<boolean>;

/** A connection-level SQLSTATE (class 08): classifiers treat it as transient, like a refused connection. */
export class NoUsableHostError extends Error {
  readonly code = '08001' as const; // sqlclient_unable_to_establish_sqlconnection
  constructor(message: string) {
    super(message);
    this.name = 'NoUsableHostError';
    markError(this);
  }
}

/** Chooses and remembers the host new connections go to (see the file comment). */
export class HostSelector {
  private chosen: PgHost | undefined;
  private selecting: Promise<PgHost> | undefined;

  constructor(
    readonly hosts: readonly PgHost[],
    readonly target: TargetSessionAttrs,
    private readonly probe: RecoveryProbe,
  ) {}

  /** The chosen host, selecting one first when none is (concurrent callers share one selection). */
  current(): Promise<PgHost> {
    if (this.chosen) return Promise.resolve(this.chosen);
    this.selecting ??= this.select().finally(() => (this.selecting = undefined));
    return this.selecting;
  }

  /** A connection to `host` failed or it answered read-only: the next connection selects again. */
  failed(host: PgHost): void {
    if (this.chosen && this.chosen.host === host.host && this.chosen.port === host.port) this.chosen = undefined;
  }

  private async select(): Promise<PgHost> {
    const why: string[] = [];
    for (const h of this.hosts) {
      try {
        const inRecovery = await this.probe(h);
        if (this.target === 'read-write' && inRecovery) {
          why.push(`${h.host}:${h.port} is read-only (in recovery)`);
          continue;
        }
        this.chosen = h;
        return h;
      } catch (err) {
        why.push(`${h.host}:${h.port}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    throw new NoUsableHostError(`no ${this.target === 'read-write' ? 'read-write ' : ''}PostgreSQL host answered: ${why.join('; ')}`);
  }
}

const selectors = new Map<string, HostSelector>();

/** One selector per URL and process: the document store and the saga log on one URL share it. */
export function selectorFor(url: string, parsed: MultiHostUrl, probe: RecoveryProbe): HostSelector {
  let s = selectors.get(url);
  if (!s) {
    s = new HostSelector(parsed.hosts, parsed.target, probe);
    selectors.set(url, s);
  }
  return s;
}

/** read_only_sql_transaction: a statement reached a host that is (now) a standby. */
export const READ_ONLY_SQLSTATE = '25006';
