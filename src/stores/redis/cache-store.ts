// Redis adapter: one JSON value per document under `apex:{<len>:<id>}:doc` (keys.ts); writes with a
// WriteContext are fenced by a Lua script (check + raise the saga's fence + write, atomically; the
// entry and its fence share a hash tag, so the script runs on a Redis Cluster too). Fails fast when
// Redis is down (no offline queue, one retry) so the saga sees a transient error, not a hang.
import { StoreError } from '../errors.js';
import { DEFAULT_TIMEOUT_MS, withTimeout } from '../timeout.js';
import type { CacheEntry, CacheStore, DocIdPage, HealthReport, WriteContext } from '../types.js';
import { failed, OK, type CacheBatchWrites, type CacheRemoveItem, type MemberOutcome, type Outcomes } from '../batch-types.js';
import { clusterNotReady, groupKeys, isCluster, openConnection, scanEach, scanTargets, type RedisConnection } from './client.js';
import { classifyRedisError } from './errors.js';
import { redisKeys, type RedisKeys } from './keys.js';
import { migrateKeyLayout, MIGRATE_KEY_SCRIPT } from './migrate-keys.js';
import { describeRedisUrl } from '../../lib/redis-url.js';

export { classifyRedisError } from './errors.js';
export { docKey, fenceKey } from './keys.js';

export interface RedisStoreOptions {
  /** redis://[:password@]host:port[/db], or redis+cluster://[:password@]host:port[,host:port...] (url.ts) */
  url: string;
  timeoutMs?: number;
  /**
   * Cluster only: where to reach a node that the cluster announces as `host:port` (NAT, containers,
   * a test's proxies). Without it the client connects to the announced addresses.
   */
  natMap?: Record<string, { host: string; port: number }>;
  /** APEX_NAMESPACE: this deployment's key prefix `apex:<ns>:` (keys.ts); unset = `apex:`. */
  namespace?: string;
}

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

function fenced(docId: string, ctx: WriteContext): StoreError {
  return new StoreError(
    'redis',
    'STORE_FENCED',
    `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for document ${JSON.stringify(docId)}`,
  );
}

interface ScriptCommands<R> {
  apexRemoveIfSha(key: string, sha: string): R;
  apexFencedPut(key: string, fence: string, token: string, ttl: string, json: string): R;
  apexFencedRemoveIfSha(key: string, fence: string, token: string, ttl: string, sha: string): R;
}
type ScriptPipeline = ScriptCommands<unknown> & { exec(): Promise<Array<[Error | null, unknown]> | null> };
type RedisWithScripts = RedisConnection & ScriptCommands<Promise<number>>;

export class RedisCacheStore implements CacheStore, CacheBatchWrites {
  readonly name = 'redis' as const;
  readonly backend = 'redis';
  private readonly client: RedisWithScripts;
  private readonly options: RedisStoreOptions;
  private readonly keys: RedisKeys;
  private readonly timeoutMs: number;
  /** Rejecters of the calls waiting on the current connection (see the 'close' listener). */
  private readonly inFlight = new Set<(err: StoreError) => void>();
  private migrated = false;
  /** The migration under way (shared by concurrent callers); cleared when it fails, to be retried. */
  private migration: Promise<void> | undefined;

  constructor(options: RedisStoreOptions) {
    this.options = options;
    this.keys = redisKeys(options.namespace);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const client = openConnection(options.url, this.timeoutMs, options.natMap);
    // Connection errors surface through the failing calls; an unhandled 'error' event would crash.
    client.on('error', () => undefined);
    client.on('node error', () => undefined);
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
    client.defineCommand('apexMigrateKey', { numberOfKeys: 2, lua: MIGRATE_KEY_SCRIPT });
    this.client = client as RedisWithScripts;
  }

  private call<T>(what: string, work: () => Promise<T>, signal?: AbortSignal, connecting = false): Promise<T> {
    return withTimeout(
      'redis',
      what,
      this.timeoutMs + 1_000,
      async () => {
        const notReady = connecting ? undefined : clusterNotReady(this.client);
        if (notReady) throw new StoreError('redis', 'STORE_TRANSIENT', `${what} failed: ${notReady} (nothing was sent)`);
        let fail: ((err: StoreError) => void) | undefined;
        const connectionLost = new Promise<never>((_, reject) => {
          fail = reject;
        });
        if (fail) this.inFlight.add(fail);
        try {
          // A lenient start (src/wiring.ts) goes on when connect() failed, and ioredis reconnects on
          // its own: the first call after that migrates first, so no call ever meets layout-1 keys.
          if (!connecting && !this.migrated) await Promise.race([this.ensureMigrated(), connectionLost]);
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

  /** Connects, then moves any keys of the previous layout before the store serves a call (migrate-keys.ts). */
  async connect(): Promise<void> {
    if (this.client.status === 'wait') await this.call('connect', () => this.client.connect(), undefined, true);
    await this.ensureMigrated();
  }

  /** Not under the per-call timeout: a large keyspace takes a while; each command has its own. */
  private ensureMigrated(): Promise<void> {
    if (this.migrated) return Promise.resolve();
    this.migration ??= migrateKeyLayout(this.client, this.keys).then(
      () => {
        this.migrated = true;
      },
      (err: unknown) => {
        this.migration = undefined;
        throw classifyRedisError(err, 'migrate key layout');
      },
    );
    // Callers may stop waiting (connection lost, timeout); a later failure must not go unhandled.
    this.migration.catch(() => undefined);
    return this.migration;
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
          this.keys.docKey(entry.docId),
          this.keys.fenceKey(entry.docId, ctx.sagaId),
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
      await this.call('remove', () => this.client.apexRemoveIfSha(this.keys.docKey(docId), contentSha256 ?? ''));
      return;
    }
    const reply = await this.call(
      'remove',
      () =>
        this.client.apexFencedRemoveIfSha(
          this.keys.docKey(docId),
          this.keys.fenceKey(docId, ctx.sagaId),
          String(ctx.fencingToken),
          String(FENCE_TTL_SECONDS),
          contentSha256 ?? '',
        ),
      ctx.signal,
    );
    if (reply === FENCED_REPLY) throw fenced(docId, ctx);
  }

  /** Many fenced puts in pipelines (one per cluster node): each key's script checks its own fence. */
  putBatch(items: ReadonlyArray<{ entry: CacheEntry; ctx: WriteContext }>): Outcomes {
    return this.pipelined(
      'putBatch',
      items.map(({ entry, ctx }) => ({ docId: entry.docId, ctx })),
      (p, i) => {
        const it = items[i];
        if (it)
          p.apexFencedPut(
            this.keys.docKey(it.entry.docId),
            this.keys.fenceKey(it.entry.docId, it.ctx.sagaId),
            String(it.ctx.fencingToken),
            String(FENCE_TTL_SECONDS),
            JSON.stringify(it.entry),
          );
      },
    );
  }

  /** Many removals in pipelines; fenced per key where the item has a context. */
  removeBatch(items: readonly CacheRemoveItem[]): Outcomes {
    return this.pipelined('removeBatch', items, (p, i) => {
      const it = items[i];
      if (!it) return;
      if (it.ctx)
        p.apexFencedRemoveIfSha(
          this.keys.docKey(it.docId),
          this.keys.fenceKey(it.docId, it.ctx.sagaId),
          String(it.ctx.fencingToken),
          String(FENCE_TTL_SECONDS),
          it.contentSha256 ?? '',
        );
      else p.apexRemoveIfSha(this.keys.docKey(it.docId), it.contentSha256 ?? '');
    });
  }

  /**
   * One reply per item: a script error or a FENCED reply fails only its item. A cluster takes one
   * pipeline per node (ioredis refuses a pipeline spanning nodes); they run in parallel.
   */
  private async pipelined(
    what: string,
    items: ReadonlyArray<{ docId: string; ctx?: WriteContext }>,
    add: (p: ScriptPipeline, i: number) => void,
  ): Outcomes {
    if (items.length === 0) return [];
    const groups = groupKeys(
      this.client,
      items.map((it) => this.keys.docKey(it.docId)),
      'node',
    );
    const replies: Array<[Error | null, unknown]> = [];
    await this.call(what, () =>
      Promise.all(
        groups.map(async (group) => {
          // defineCommand adds the scripts to pipelines too; ioredis's types do not know them.
          const p = this.client.pipeline() as unknown as ScriptPipeline;
          for (const i of group) add(p, i);
          const out = await p.exec();
          if (!out) throw new StoreError('redis', 'STORE_TRANSIENT', `${what}: the pipeline was not executed`);
          // A timeout or a lost connection answers every command of the pipeline with an error instead
          // of rejecting exec: that is the batch failing as a whole (in doubt), not one member.
          const lost = out.find(([err]) => err !== null && err.name !== 'ReplyError');
          if (lost?.[0]) throw lost[0];
          group.forEach((i, j) => {
            replies[i] = out[j] ?? [new Error('no reply'), undefined];
          });
        }),
      ),
    );
    return items.map(({ docId, ctx }, i): MemberOutcome<void> => {
      const [err, reply] = replies[i] ?? [new Error('no reply'), undefined];
      if (err) return failed(classifyRedisError(err, what));
      if (reply === FENCED_REPLY && ctx) return failed(fenced(docId, ctx));
      return OK;
    });
  }

  async get(docId: string): Promise<CacheEntry | undefined> {
    const raw = await this.call('get', () => this.client.get(this.keys.docKey(docId)));
    return raw === null ? undefined : (JSON.parse(raw) as CacheEntry);
  }

  /** One MGET per slot (a cluster refuses MGET across slots; a standalone server takes one MGET). */
  async getMany(docIds: readonly string[]): Promise<CacheEntry[]> {
    if (docIds.length === 0) return [];
    const keys = docIds.map((id) => this.keys.docKey(id));
    const raws: Array<string | null> = [];
    await this.call('getMany', () =>
      Promise.all(
        groupKeys(this.client, keys, 'slot').map(async (group) => {
          const got = await this.client.mget(group.map((i) => keys[i] ?? ''));
          group.forEach((i, j) => {
            raws[i] = got[j] ?? null;
          });
        }),
      ),
    );
    return raws.flatMap((raw) => (raw === null || raw === undefined ? [] : [JSON.parse(raw) as CacheEntry]));
  }

  /**
   * One SCAN step. Standalone: the cursor is Redis's. Cluster: `<master index>:<cursor>`, walking the
   * masters in slot order. SCAN may return a key twice, and `limit` is a hint (COUNT).
   */
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    return this.call('scanDocIds', async () => {
      const targets = scanTargets(this.client);
      const m = /^(?:(\d+):)?(\d+)$/.exec(cursor ?? '0');
      if (!m?.[2] || (isCluster(this.client) && cursor !== null && m[1] === undefined)) {
        throw new StoreError(
          'redis',
          'STORE_PERMANENT',
          `scanDocIds: ${JSON.stringify((cursor ?? '').slice(0, 40))} is not a cursor of this store`,
        );
      }
      const index = Number(m[1] ?? 0);
      const node = targets[index];
      if (!node) return { docIds: [], next: null };
      const [next, keys] = await node.scan(m[2], 'MATCH', this.keys.docPattern, 'COUNT', limit);
      const docIds = keys.flatMap((key) => this.keys.docIdOfKey(key) ?? []);
      if (!isCluster(this.client)) return { docIds, next: next === '0' ? null : next };
      if (next !== '0') return { docIds, next: `${index}:${next}` };
      return { docIds, next: index + 1 < targets.length ? `${index + 1}:0` : null };
    });
  }

  /** SCAN has no order, so the ids are collected (from every master), sorted and paged here (fine at cache sizes). */
  async listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    const ids = await this.call('listDocIds', async () => {
      const found: string[] = [];
      for (const node of scanTargets(this.client)) {
        await scanEach(node, this.keys.docPattern, async (keys) => {
          for (const key of keys) {
            const id = this.keys.docIdOfKey(key);
            if (id !== undefined) found.push(id);
          }
        });
      }
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
