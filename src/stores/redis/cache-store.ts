// Redis adapter: one JSON value per document under `apex:doc:<id>`; writes with a WriteContext are
// fenced by a Lua script (check + raise the saga's fence + write, atomically). Fails fast when
// Redis is down (no offline queue, one retry) so the saga sees a transient error, not a hang.
import { Redis } from 'ioredis';
import { isStoreError, StoreError } from '../errors.js';
import { DEFAULT_TIMEOUT_MS, withTimeout } from '../timeout.js';
import type { CacheEntry, CacheStore, DocIdPage, HealthReport, WriteContext } from '../types.js';
import { failed, OK, type CacheBatchWrites, type CacheRemoveItem, type MemberOutcome, type Outcomes } from '../batch-types.js';

export interface RedisStoreOptions {
  /** redis://[:password@]host:port[/db] */
  url: string;
  timeoutMs?: number;
}

export const CACHE_KEY_PREFIX = 'apex:doc:';

/**
 * Fence keys: `apex:fence:<docId length>:<docId>:<sagaId>`, outside the `apex:doc:*` pattern that
 * listDocIds scans. The length makes the key unambiguous when ids contain ':' (doc "a:b" + saga
 * "c" and doc "a" + saga "b:c" must not share a fence).
 */
export const FENCE_KEY_PREFIX = 'apex:fence:';
/** A fence only has to outlive the longest realistic stall of an owner (GC pause, SIGSTOP, VM
 * freeze: seconds to minutes); a week is far beyond that and keeps fence keys from piling up. */
export const FENCE_TTL_SECONDS = 7 * 24 * 3600;
/** What the scripts return when a newer token of the same saga has written: nothing was changed. */
const FENCED_REPLY = -1;

/** Shared head of the fenced scripts: KEYS[2] is the fence, ARGV[1] our token, ARGV[2] the TTL.
 * Redis runs a script atomically, so check, raise and write cannot interleave with another call. */
const CHECK_AND_RAISE_FENCE = `
local token = tonumber(ARGV[1])
local fence = tonumber(redis.call('GET', KEYS[2]))
if fence and fence > token then return ${FENCED_REPLY} end
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[2])`;

/** put: KEYS[1] the entry, ARGV[3] its JSON. */
const FENCED_PUT = `${CHECK_AND_RAISE_FENCE}
redis.call('SET', KEYS[1], ARGV[3])
return 1`;

/** Deletes KEYS[1] only when its JSON holds the sha in ARGV[n] (or when that sha is ''). */
const removeIfSha = (shaArg: number): string => `
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
if ARGV[${shaArg}] ~= '' then
  local ok, decoded = pcall(cjson.decode, current)
  if not ok or type(decoded) ~= 'table' or decoded['contentSha256'] ~= ARGV[${shaArg}] then return 0 end
end
return redis.call('DEL', KEYS[1])`;

/** remove without a WriteContext (operator cleanup): KEYS[1], ARGV[1] the sha or ''. */
const REMOVE_IF_SHA = removeIfSha(1);
/** A saga's compensation: fenced like a write, and it raises the fence even when nothing was there,
 * so the stalled owner's late put after it is refused. ARGV[3] the sha or ''. */
const FENCED_REMOVE_IF_SHA = `${CHECK_AND_RAISE_FENCE}
${removeIfSha(3)}`;

export function fenceKey(docId: string, sagaId: string): string {
  return `${FENCE_KEY_PREFIX}${docId.length}:${docId}:${sagaId}`;
}

/** Server replies that mean "try again later"; every other reply error is permanent. */
const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY|NOREPLICAS)/;

export function classifyRedisError(err: unknown, what: string): StoreError {
  if (isStoreError(err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  const summary = `${what} failed: ${message}`;
  if (/command timed out/i.test(message)) return new StoreError('redis', 'STORE_TIMEOUT', summary, { cause: err });
  if (err instanceof Error && err.name === 'ReplyError' && !TRANSIENT_REPLIES.test(message)) {
    return new StoreError('redis', 'STORE_PERMANENT', summary, { cause: err });
  }
  // Anything that is not a server reply is about the connection (closed, refused, not writeable).
  return new StoreError('redis', 'STORE_TRANSIENT', summary, { cause: err });
}

function fenced(docId: string, ctx: WriteContext): StoreError {
  return new StoreError(
    'redis',
    'STORE_FENCED',
    `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for document ${JSON.stringify(docId)}`,
  );
}

function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '6379'}${u.pathname && u.pathname !== '/' ? u.pathname : ''}`;
  } catch {
    return 'an unparsable REDIS_URL';
  }
}

interface ScriptCommands<R> {
  apexRemoveIfSha(key: string, sha: string): R;
  apexFencedPut(key: string, fence: string, token: string, ttl: string, json: string): R;
  apexFencedRemoveIfSha(key: string, fence: string, token: string, ttl: string, sha: string): R;
}
type ScriptPipeline = ScriptCommands<unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
type RedisWithScripts = Redis & ScriptCommands<Promise<number>>;

export class RedisCacheStore implements CacheStore, CacheBatchWrites {
  readonly name = 'redis' as const;
  readonly backend = 'redis';
  private readonly client: RedisWithScripts;
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
    client.defineCommand('apexFencedPut', { numberOfKeys: 2, lua: FENCED_PUT });
    client.defineCommand('apexFencedRemoveIfSha', { numberOfKeys: 2, lua: FENCED_REMOVE_IF_SHA });
    this.client = client as RedisWithScripts;
  }

  private call<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withTimeout(
      'redis',
      what,
      this.timeoutMs + 1_000,
      async () => {
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
      },
      signal,
    );
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
    const reply = await this.call(
      'put',
      () =>
        this.client.apexFencedPut(
          CACHE_KEY_PREFIX + entry.docId,
          fenceKey(entry.docId, ctx.sagaId),
          String(ctx.fencingToken),
          String(FENCE_TTL_SECONDS),
          JSON.stringify(entry),
        ),
      ctx.signal,
    );
    if (reply === FENCED_REPLY) throw fenced(entry.docId, ctx);
  }

  /** With `ctx` (a saga's compensation) fenced like a write; without it (operator cleanup) not. */
  async remove(docId: string, contentSha256: string | null, ctx?: WriteContext): Promise<void> {
    if (!ctx) {
      await this.call('remove', () => this.client.apexRemoveIfSha(CACHE_KEY_PREFIX + docId, contentSha256 ?? ''));
      return;
    }
    const reply = await this.call(
      'remove',
      () =>
        this.client.apexFencedRemoveIfSha(
          CACHE_KEY_PREFIX + docId,
          fenceKey(docId, ctx.sagaId),
          String(ctx.fencingToken),
          String(FENCE_TTL_SECONDS),
          contentSha256 ?? '',
        ),
      ctx.signal,
    );
    if (reply === FENCED_REPLY) throw fenced(docId, ctx);
  }

  /** Many fenced puts in one pipeline: each key's script checks its own fence (one reply each). */
  putBatch(items: ReadonlyArray<{ entry: CacheEntry; ctx: WriteContext }>): Outcomes {
    return this.pipelined(
      'putBatch',
      items.map(({ entry, ctx }) => ({ docId: entry.docId, ctx })),
      (p, i) => {
        const it = items[i];
        if (it)
          p.apexFencedPut(
            CACHE_KEY_PREFIX + it.entry.docId,
            fenceKey(it.entry.docId, it.ctx.sagaId),
            String(it.ctx.fencingToken),
            String(FENCE_TTL_SECONDS),
            JSON.stringify(it.entry),
          );
      },
    );
  }

  /** Many removals in one pipeline; fenced per key where the item has a context. */
  removeBatch(items: readonly CacheRemoveItem[]): Outcomes {
    return this.pipelined('removeBatch', items, (p, i) => {
      const it = items[i];
      if (!it) return;
      if (it.ctx)
        p.apexFencedRemoveIfSha(
          CACHE_KEY_PREFIX + it.docId,
          fenceKey(it.docId, it.ctx.sagaId),
          String(it.ctx.fencingToken),
          String(FENCE_TTL_SECONDS),
          it.contentSha256 ?? '',
        );
      else p.apexRemoveIfSha(CACHE_KEY_PREFIX + it.docId, it.contentSha256 ?? '');
    });
  }

  /** One pipeline, one reply per item: a script error or a FENCED reply fails only its item. */
  private async pipelined(
    what: string,
    items: ReadonlyArray<{ docId: string; ctx?: WriteContext }>,
    add: (p: ScriptPipeline, i: number) => void,
  ): Outcomes {
    if (items.length === 0) return [];
    const replies = await this.call(what, async () => {
      // defineCommand adds the scripts to pipelines too; ioredis's types do not know them.
      const p = this.client.pipeline() as unknown as ScriptPipeline;
      items.forEach((_, i) => add(p, i));
      const out = await p.exec();
      if (!out) throw new StoreError('redis', 'STORE_TRANSIENT', `${what}: the pipeline was not executed`);
      // A timeout or a lost connection answers every command of the pipeline with an error instead
      // of rejecting exec: that is the batch failing as a whole (in doubt), not one member.
      const lost = out.find(([err]) => err !== null && err.name !== 'ReplyError');
      if (lost?.[0]) throw lost[0];
      return out;
    });
    return items.map(({ docId, ctx }, i): MemberOutcome<void> => {
      const [err, reply] = replies[i] ?? [new Error('no reply'), undefined];
      if (err) return failed(classifyRedisError(err, what));
      if (reply === FENCED_REPLY && ctx) return failed(fenced(docId, ctx));
      return OK;
    });
  }

  async get(docId: string): Promise<CacheEntry | undefined> {
    const raw = await this.call('get', () => this.client.get(CACHE_KEY_PREFIX + docId));
    return raw === null ? undefined : (JSON.parse(raw) as CacheEntry);
  }

  async getMany(docIds: readonly string[]): Promise<CacheEntry[]> {
    if (docIds.length === 0) return [];
    const raws = await this.call('getMany', () => this.client.mget(docIds.map((id) => CACHE_KEY_PREFIX + id)));
    return raws.flatMap((raw) => (raw === null ? [] : [JSON.parse(raw) as CacheEntry]));
  }

  /** One SCAN step; the cursor is Redis's. SCAN may return a key twice, and `limit` is a hint (COUNT). */
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const [next, keys] = await this.call('scanDocIds', () =>
      this.client.scan(cursor ?? '0', 'MATCH', `${CACHE_KEY_PREFIX}*`, 'COUNT', limit),
    );
    return { docIds: keys.map((key) => key.slice(CACHE_KEY_PREFIX.length)), next: next === '0' ? null : next };
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
    return [...new Set(ids)]
      .sort()
      .filter((id) => afterId === null || id > afterId)
      .slice(0, limit);
  }
}

export function createRedisStore(options: RedisStoreOptions): RedisCacheStore {
  return new RedisCacheStore(options);
}
