// Moves layout-1 keys (`apex:doc:<id>`, `apex:fence:<len>:<id>:<saga>`) to layout 2 (keys.ts).
// Runs in the store's connect(), before the store serves any call, so no write ever lands beside
// an unmigrated key: the migration completes before any write of this process, and old-format
// keys are never read. Once done it sets `apex:keys-version` = 2, and later connects only read it.
//
// Safety: each key moves in one script (read old, write new unless already there, delete old), so
// two processes migrating at once, or a crash in the middle, leave every key either old or new,
// never both or neither; a later connect resumes with what is left. Processes of the previous
// release must be stopped first: they would keep writing layout-1 keys after the migration.
// On a Redis Cluster the old and the new key of a document sit in different slots, so no script
// can move them atomically; the previous release could not write to a cluster anyway, so finding
// layout-1 keys there is refused with instructions instead (docs/stores.md).
import { StoreError } from '../errors.js';
import { isCluster, scanEach, scanTargets, type RedisConnection } from './client.js';
import { KEYS_VERSION, LEGACY_DOC_PREFIX, LEGACY_FENCE_PREFIX, migratedKey, redisKeys, type RedisKeys } from './keys.js';

/**
 * KEYS[1] the old key, KEYS[2] the new one. An entry already under the new key is newer (written
 * by this release) and wins; for fences the higher token wins, keeping the longer TTL.
 */
export const MIGRATE_KEY_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
local existing = redis.call('GET', KEYS[2])
local fence = ARGV[1] == 'fence'
if not existing or (fence and tonumber(v) and tonumber(existing) and tonumber(v) > tonumber(existing)) then
  if fence and existing then ttl = math.max(ttl, redis.call('PTTL', KEYS[2])) end
  if ttl > 0 then redis.call('SET', KEYS[2], v, 'PX', ttl) else redis.call('SET', KEYS[2], v) end
end
redis.call('DEL', KEYS[1])
return 1`;

export interface MigrationResult {
  /** Keys this call moved (0 when already migrated, or when another process moved them). */
  moved: number;
  alreadyDone: boolean;
}

type Migrator = RedisConnection & { apexMigrateKey(oldKey: string, newKey: string, kind: string): Promise<number> };

export async function migrateKeyLayout(conn: RedisConnection, keys: RedisKeys = redisKeys()): Promise<MigrationResult> {
  if ((await conn.get(keys.versionKey)) === KEYS_VERSION) return { moved: 0, alreadyDone: true };
  // Layout 1 predates namespaces: its keys belong to the deployment without one. A namespace never
  // moves them (that would take another deployment's cache and fences into this one).
  if (keys.namespace !== undefined) {
    await conn.set(keys.versionKey, KEYS_VERSION);
    return { moved: 0, alreadyDone: false };
  }
  let moved = 0;
  for (const node of scanTargets(conn)) {
    for (const prefix of [LEGACY_DOC_PREFIX, LEGACY_FENCE_PREFIX]) {
      await scanEach(node, `${prefix}*`, async (found) => {
        if (isCluster(conn)) throw legacyOnCluster(found.length);
        for (const oldKey of found) {
          const newKey = migratedKey(oldKey);
          if (newKey === undefined) continue; // not ours (e.g. `apex:fence:` followed by garbage)
          const kind = prefix === LEGACY_FENCE_PREFIX ? 'fence' : 'doc';
          moved += await (conn as Migrator).apexMigrateKey(oldKey, newKey, kind);
        }
      });
    }
  }
  await conn.set(keys.versionKey, KEYS_VERSION);
  return { moved, alreadyDone: false };
}

function legacyOnCluster(count: number): StoreError {
  return new StoreError(
    'redis',
    'STORE_PERMANENT',
    `found ${count}+ keys of the previous layout (apex:doc:*, apex:fence:*) on a Redis Cluster, where they cannot be ` +
      'moved atomically: run this release once against a standalone Redis holding that data (it migrates at connect), ' +
      'or delete them (the cache is rebuilt by `apex-memory repair`); see docs/stores.md',
  );
}
