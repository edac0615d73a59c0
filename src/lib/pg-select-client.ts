// The pg Client class that connects where the HostSelector says (src/lib/pg-hosts.ts). Driver-free:
// the adapter passes pg's own Client class in (`selectingClient(pg.Client, selector)`), so the
// document store and the saga log share this one implementation while only they import pg.
//
// pg-pool builds its clients with `new Client(options)` and calls `connect(callback)`; a plain
// client is awaited (`await client.connect()`). Both forms pick the host first. A connection that
// fails, and a statement answered with read_only_sql_transaction (25006), make the selector choose
// again for the next connection; the failing call itself fails as before (transient).
import { errorCode } from './errors.js';
import { parseMultiHostUrl, READ_ONLY_SQLSTATE, selectorFor, type HostSelector, type PgHost } from './pg-hosts.js';

/** What this module needs of pg.Client (structural: no import of the driver). */
interface ClientLike {
  host: string;
  port: number;
  connect(callback?: (err: Error | undefined) => void): Promise<void> | undefined;
  query(...args: unknown[]): unknown;
}
type ClientCtor = new (config: object) => ClientLike;

type Callback = (err: unknown, res?: unknown) => void;

/** A subclass of `Base` (pg.Client) that asks `selector` for its host and reports failures to it. */
export function selectingClient<C extends object>(Base: C, selector: HostSelector): C {
  const Parent = Base as unknown as ClientCtor;
  class SelectingClient extends Parent {
    private selected: PgHost | undefined;

    override connect(callback?: (err: Error | undefined) => void): Promise<void> | undefined {
      const done = (async (): Promise<void> => {
        const h = await selector.current();
        this.selected = h;
        this.host = h.host;
        this.port = h.port;
        try {
          await super.connect();
        } catch (err) {
          selector.failed(h);
          throw err;
        }
      })();
      if (!callback) return done;
      done.then(
        () => callback(undefined),
        (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
      );
      return undefined;
    }

    override query(...args: unknown[]): unknown {
      const note = (err: unknown): void => {
        if (this.selected && errorCode(err) === READ_ONLY_SQLSTATE) selector.failed(this.selected);
      };
      const last = args[args.length - 1];
      if (typeof last === 'function') {
        const cb = last as Callback;
        args[args.length - 1] = (err: unknown, res?: unknown) => {
          if (err) note(err);
          cb(err, res);
        };
        return super.query(...args);
      }
      const result = super.query(...args);
      if (result instanceof Promise) result.catch(note);
      return result;
    }
  }
  return SelectingClient as unknown as C;
}

/** Opens a probe connection to one host with pg's Client class and asks pg_is_in_recovery(). */
function recoveryProbe(Base: ClientCtor, url: string, connectTimeoutMs: number): (h: PgHost) => Promise<boolean> {
  return async (h) => {
    const client = new Base({
      connectionString: url,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: connectTimeoutMs,
      application_name: 'apex-memory-host-probe',
    }) as ClientLike & { end(): Promise<void>; on(event: 'error', listener: () => void): unknown };
    client.on('error', () => undefined); // a socket error after the probe must not crash the process
    client.host = h.host;
    client.port = h.port;
    try {
      await client.connect();
      // libpq's read-write test: not a standby, and not read-only by default (a role or database
      // setting default_transaction_read_only also makes every write fail with 25006).
      const res = (await client.query("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on' AS read_only")) as {
        rows: Array<{ read_only?: unknown }>;
      };
      return res.rows[0]?.read_only === true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
}

/**
 * What a pg Pool or Client needs for `url` (DATABASE_URL, SAGA_LOG_URL, ...): the connection string
 * for pg and, when the URL names several hosts or target_session_attrs, the selecting Client class.
 * Throws PgUrlError naming `setting` for a malformed host list.
 */
export function hostSelection<C extends object>(
  Base: C,
  url: string,
  opts: { setting: string; connectTimeoutMs: number },
): { connectionString: string; Client?: C } {
  const parsed = parseMultiHostUrl(url, opts.setting);
  if (!parsed.selects) return { connectionString: url };
  const selector = selectorFor(url, parsed, recoveryProbe(Base as unknown as ClientCtor, parsed.url, opts.connectTimeoutMs));
  return { connectionString: parsed.url, Client: selectingClient(Base, selector) };
}
