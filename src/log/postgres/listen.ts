// LISTEN/NOTIFY for waiters on the PostgreSQL saga log. A trigger (migrations 3 and 4) notifies the
// schema's channel with the saga id when a saga someone registered interest in (saga_waits) changes
// status or has its lease released;
// one dedicated connection per log listens, opened on first use, and wakes the waiters of that id.
// Why not poll: a caller waiting for another owner's saga (execute on an existing id, settle)
// would otherwise query every 50 ms. A lost connection is not fatal: waiters still wake at their
// timeout (the caller re-reads the log then), and the next wait reconnects.
import pg from 'pg';
import { hostSelection } from '../../lib/pg-select-client.js';

export class ChangeListener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client | undefined> | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  /** No connectionString: notifications are unavailable (a pooler without a direct URL); waits poll. */
  constructor(
    private readonly connectionString: string | undefined,
    private readonly channel: string,
    private readonly connectTimeoutMs = 5_000,
  ) {}

  /** `ready` (the interest registration) is awaited only so that its failure is never unhandled. */
  wait(sagaId: string, timeoutMs: number, ready?: Promise<unknown>): Promise<void> {
    void ready?.catch(() => undefined);
    return new Promise((resolve) => {
      const set = this.waiters.get(sagaId) ?? new Set<() => void>();
      this.waiters.set(sagaId, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(sagaId);
        resolve();
      };
      // Without notifications the caller re-reads the log after a short wait instead.
      const timer = setTimeout(done, Math.max(0, this.connectionString === undefined ? Math.min(timeoutMs, 250) : timeoutMs));
      set.add(done);
      // A failed LISTEN only means this wait ends at its timeout.
      void this.connect().catch(() => undefined);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const w of [...set]) w();
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connect(): Promise<pg.Client | undefined> {
    const url = this.connectionString;
    if (this.client || this.closed || url === undefined) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const { connectionString, Client = pg.Client } = hostSelection(pg.Client, url, {
        setting: 'SAGA_LOG_URL',
        connectTimeoutMs: this.connectTimeoutMs,
      });
      const client = new Client({
        connectionString,
        application_name: 'apex-memory-saga-log-listen',
        connectionTimeoutMillis: this.connectTimeoutMs,
        // LISTEN answers at once; a server that never does must not leave the wait pending.
        query_timeout: 10_000,
      });
      client.on('error', () => {
        if (this.client === client) this.client = undefined;
      });
      client.on('end', () => {
        if (this.client === client) this.client = undefined;
      });
      client.on('notification', (msg) => {
        const set = msg.payload === undefined ? undefined : this.waiters.get(msg.payload);
        if (set) for (const w of [...set]) w();
      });
      try {
        await client.connect();
        await client.query(`LISTEN "${this.channel}"`);
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
      if (this.closed) {
        await client.end().catch(() => undefined);
        return undefined;
      }
      this.client = client;
      return client;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }
}
