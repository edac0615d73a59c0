// LISTEN/NOTIFY for waiters on the PostgreSQL saga log. A trigger (migration 3) notifies the
// schema's channel with the saga id whenever a saga's status changes or its lease is released;
// one dedicated connection per log listens, opened on first use, and wakes the waiters of that id.
// Why not poll: a caller waiting for another owner's saga (execute on an existing id, settle)
// would otherwise query every 50 ms. A lost connection is not fatal: waiters still wake at their
// timeout (the caller re-reads the log then), and the next wait reconnects.
import pg from 'pg';

export class ChangeListener {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client | undefined> | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly connectionString: string,
    private readonly channel: string,
  ) {}

  wait(sagaId: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(sagaId) ?? new Set<() => void>();
      this.waiters.set(sagaId, set);
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiters.delete(sagaId);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, timeoutMs));
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
    if (this.client || this.closed) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client({ connectionString: this.connectionString, application_name: 'apex-memory-saga-log-listen' });
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
