// REDIS_URL for a cluster (src/lib/redis-url.ts), the layout-2 key names (keys.ts) and the
// classification of cluster replies (errors.ts): pure functions, no server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import calculateSlot from 'cluster-key-slot';
import { configFromEnv } from '../../src/config/profile.js';
import { redactUrl } from '../../src/lib/redact.js';
import { classifyRedisError } from '../../src/stores/redis/errors.js';
import { docIdOfKey, docKey, fenceKey, migratedKey } from '../../src/stores/redis/keys.js';
import { describeRedisUrl, MAX_CLUSTER_SEEDS, parseRedisUrl } from '../../src/lib/redis-url.js';

const configError = (redisUrl: string): { code?: string; setting?: string; message: string } => {
  try {
    configFromEnv({ REDIS_URL: redisUrl }, '/tmp/x');
  } catch (err) {
    return err as { code?: string; setting?: string; message: string };
  }
  throw new Error(`REDIS_URL=${redisUrl} was accepted`);
};

void describe('REDIS_URL naming a cluster', () => {
  void it('redis+cluster:// lists seed nodes; credentials and TLS are read', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,[::1]:7002,cache'), {
      kind: 'cluster',
      seeds: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: '::1', port: 7002 },
        { host: 'cache', port: 6379 },
      ],
      tls: false,
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://app:p%40ss@h:1/'), {
      kind: 'cluster',
      seeds: [{ host: 'h', port: 1 }],
      username: 'app',
      password: 'p@ss',
      tls: true,
    });
    assert.deepEqual(parseRedisUrl('redis://h:6379/2'), { kind: 'standalone', url: 'redis://h:6379/2' });
  });

  void it('a /db, a bad port, too many nodes or no node is a config error naming REDIS_URL and the limit', () => {
    const db = configError('redis+cluster://h:1,h:2/3');
    assert.equal(db.code, 'CONFIG_INVALID');
    assert.equal(db.setting, 'REDIS_URL');
    assert.match(db.message, /^REDIS_URL: a Redis Cluster has no numbered databases/);
    assert.match(configError('redis+cluster://h:70000').message, /REDIS_URL: cluster node port must be 1-65535/);
    const many = Array.from({ length: MAX_CLUSTER_SEEDS + 1 }, (_, i) => `h${i}:1`).join(',');
    assert.match(
      configError(`redis+cluster://${many}`).message,
      new RegExp(`at most ${MAX_CLUSTER_SEEDS} cluster nodes, got ${MAX_CLUSTER_SEEDS + 1}`),
    );
    assert.match(configError('redis+cluster://').message, /at least one host:port/);
    assert.match(configError('redis+cluster://h:1?db=2').message, /no path, query or fragment/);
  });

  void it('no message or description shows the password', () => {
    const secret = 's3cret-pw';
    assert.doesNotMatch(configError(`redis+cluster://:${secret}@h:1/2`).message, /s3cret/);
    assert.doesNotMatch(configError(`redis+cluster://:${secret}@h:x`).message, /s3cret/);
    assert.equal(describeRedisUrl(`redis+cluster://u:${secret}@a:1,b:2`), 'cluster a:1,b:2');
    assert.equal(redactUrl(`redis+cluster://u:${secret}@a:1,b:2`), 'redis+cluster://a:1,b:2');
  });
});

void describe('Redis key layout 2', () => {
  const ids = ['plain', 'a:b', '}lead', '{x}', 'a}b{c', '}', 'emoji 🧠', 'apex:doc:x', '12:fake}:doc'];

  void it('entry and fence keys of a document share a slot; the entry key parses back to its id', () => {
    for (const id of ids) {
      assert.equal(calculateSlot(fenceKey(id, 'saga')), calculateSlot(docKey(id)), id);
      assert.equal(docIdOfKey(docKey(id)), id);
      assert.equal(docIdOfKey(fenceKey(id, 'saga')), undefined, 'a fence is not an entry');
    }
    assert.equal(docKey('a:b'), 'apex:{3:a:b}:doc');
    assert.equal(docIdOfKey('apex:{9:short}:doc'), undefined);
    assert.equal(docIdOfKey('apex:doc:x'), undefined);
  });

  void it('distinct (document, saga) pairs never share a fence key', () => {
    const pairs: Array<[string, string]> = [
      ['x:y', 'z'],
      ['x', 'y:z'],
      ['x}:fence:y', 'z'],
      ['x', 'y}:fence:z'],
    ];
    assert.equal(new Set(pairs.map(([d, s]) => fenceKey(d, s))).size, pairs.length);
  });

  void it('layout-1 keys map to their layout-2 names; other keys do not', () => {
    assert.equal(migratedKey('apex:doc:a:b'), docKey('a:b'));
    assert.equal(migratedKey('apex:fence:3:a:b:saga:1'), fenceKey('a:b', 'saga:1'));
    assert.equal(migratedKey('apex:fence:9:short'), undefined);
    assert.equal(migratedKey('apex:fence:x:y'), undefined);
    assert.equal(migratedKey('apex:keys-version'), undefined);
  });
});

void describe('cluster replies', () => {
  const reply = (message: string): Error => Object.assign(new Error(message), { name: 'ReplyError' });
  void it('MOVED, ASK, TRYAGAIN and CLUSTERDOWN are transient; CROSSSLOT is permanent', () => {
    for (const m of [
      'MOVED 3999 127.0.0.1:6381',
      'ASK 3999 127.0.0.1:6381',
      'TRYAGAIN Multiple keys request',
      'CLUSTERDOWN The cluster is down',
    ]) {
      assert.equal(classifyRedisError(reply(m), 'x').code, 'STORE_TRANSIENT', m);
    }
    assert.equal(classifyRedisError(new Error('Too many Cluster redirections. Last error: MOVED 1 h:1'), 'x').code, 'STORE_TRANSIENT');
    assert.equal(classifyRedisError(reply("CROSSSLOT Keys in request don't hash to the same slot"), 'x').code, 'STORE_PERMANENT');
    assert.equal(classifyRedisError(reply('MOVEDX not a redirection'), 'x').code, 'STORE_PERMANENT');
  });
});
