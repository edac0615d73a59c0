// Redis adapter: one JSON value per document under `apex:doc:<id>`. Fails fast when Redis is down
// (no offline queue, one retry) so the saga sees a transient error instead of a hanging call.
import { Redis } from 'ioredis';
import { StoreError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, withTimeout } from './timeout.js';
import type { CacheEntry, CacheStore, HealthReport, WriteContext } from './types.js';

export interface RedisStoreOptions {
  /** redis://[:password@]host:port[/db] */
  url: string;
  timeoutMs?: number;
}

export const CACHE_KEY_PREFIX = 'apex:doc:';

/** Deletes the key only when its JSON holds the expected sha (or when no sha is given): atomic in Redis. */
const REMOVE_IF_SHA = `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[1] ~= '' then
  local ok, decoded = pcall(cjson.decode, current)
  if not ok or type(decoded) ~= 'table' or decoded['contentSha256'] ~= ARGV[1] then return 0 end
end
return redis.call('DEL', KEYS[1])`;

/** Server replies that mean "try again later"; every other reply error is permanent. */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS)/;

export function classifyRedisError(err: unknown, what: string): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const summary = `${what} failed: ${message}`;
  if (/command timed out/i.test(message)) return new StoreError('redis', 'STORE_TIMEOUT', summary, { cause: err });
  if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLIES.test(message)) {
    return new StoreError('redis', 'STORE_PERMANENT', summary, { cause: err });
  }
  // Anything that is not a server reply is about the connection (closed, refused, not writeable).
  return new StoreError('redis', 'STORE_TRANSIENT', summary, { cause: err });
}

function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'an unparsable REDIS_URL';
  }
}

type RedisWithRemove = Redis & { apexRemoveIfSha(key: string, sha: string): Promise<number> };

export class RedisCacheStore implements CacheStore {
  readonly name = 'redis' as const;
  readonly backend = 'redis';
  private readonly client: RedisWithRemove;
  private readonly options: RedisStoreOptions;
  private readonly timeoutMs: number;
  /** Rejecters of the calls waiting on the current connection (see the 'close' listener). */
  private readonly inFlight = new Set<(err: StoreError) => void>();

  constructor(options: RedisStoreOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client = new Redis(options.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: this.timeoutMs,
      connectTimeout: Math.min(this.timeoutMs, 5_000),
      // Keep reconnecting in the background; calls meanwhile fail fast (no offline queue).
      retryStrategy: (times: number) => Math.min(times * 200, 2_000),
      // A command in flight when the connection drops must never be re-sent later on its own: the
      // saga may have compensated meanwhile, and a late SET would resurrect a removed entry.
      autoResendUnfulfilledCommands: false,
    });
    // Connection errors surface through the failing calls; an unhandled 'error' event would crash.
    client.on('error', () => undefined);
    // ioredis parks in-flight commands until a reconnect (and then drops them unanswered when not
    // re-sending), so the calls waiting on a closed connection are failed here, at once.
    client.on('close', () => {
      const lost = new StoreError('redis', 'STORE_TRANSIENT', 'connection closed while the call was in flight (it may have applied)');
      for (const fail of this.inFlight) fail(lost);
      this.inFlight.clear();
    });
    client.defineCommand('apexRemoveIfSha', { numberOfKeys: 1, lua: REMOVE_IF_SHA });
    this.client = client as RedisWithRemove;
  }

  private call<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withTimeout('redis', what, this.timeoutMs + 1_000, async () => {
      let fail: ((err: StoreError) => void) | undefined;
      const connectionLost = new Promise<never>((_, reject) => {
        fail = reject;
      });
      if (fail) this.inFlight.add(fail);
      try {
        return await Promise.race([work(), connectionLost]);
      } catch (err) {
        throw classifyRedisError(err, what);
      } finally {
        if (fail) this.inFlight.delete(fail);
      }
    }, signal);
  }

  async connect(): Promise<void> {
    if (this.client.status === 'wait') await this.call('connect', () => this.client.connect());
  }

  async health(): Promise<HealthReport> {
    try {
      await this.call('health', () => this.client.ping());
      return { ok: true, detail: `redis at ${describeRedisUrl(this.options.url)}` };
    } catch (err) {
      return { ok: false, detail: `redis at ${describeRedisUrl(this.options.url)}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  async put(entry: CacheEntry, ctx: WriteContext): Promise<void> {
    await this.call('put', () => this.client.set(CACHE_KEY_PREFIX + entry.docId, JSON.stringify(entry)), ctx.signal);
  }

  async remove(docId: string, contentSha256: string | null, ctx?: WriteContext): Promise<void> {
    await this.call('remove', () => this.client.apexRemoveIfSha(CACHE_KEY_PREFIX + docId, contentSha256 ?? ''), ctx?.signal);
  }

  async get(docId: string): Promise<CacheEntry | undefined> {
    const raw = await this.call('get', () => this.client.get(CACHE_KEY_PREFIX + docId));
    return raw === null ? undefined : (JSON.parse(raw) as CacheEntry);
  }

  /** SCAN has no order, so the ids are collected, sorted and paged here (fine at cache sizes). */
  async listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    const ids = await this.call('listDocIds', async () => {
      const found: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', `${CACHE_KEY_PREFIX}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.push(key.slice(CACHE_KEY_PREFIX.length));
      } while (cursor !== '0');
      return found;
    });
    return [...new Set(ids)].sort().filter((id) => afterId === null || id > afterId).slice(0, limit);
  }
}

export function createRedisStore(options: RedisStoreOptions): RedisCacheStore {
  return new RedisCacheStore(options);
}
