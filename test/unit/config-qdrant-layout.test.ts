// QDRANT_SHARDS, QDRANT_REPLICATION_FACTOR and QDRANT_WRITE_CONSISTENCY (issue 24): checked at
// start with an error naming the setting and its limit, like every numeric setting.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/numeric.js';
import { configFromEnv } from '../../src/config/profile.js';
import { layoutParams } from '../../src/stores/qdrant/layout.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    configFromEnv(env, '/tmp/x');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected a ConfigError for ${JSON.stringify(env)}`);
}

test('Qdrant layout settings: out of range or malformed fail naming the setting and the limit', () => {
  const cases: Array<[string, string, string]> = [
    ['QDRANT_SHARDS', '0', 'QDRANT_SHARDS must be an integer from 1 to 1024 (shards), got "0"'],
    ['QDRANT_SHARDS', '1025', 'QDRANT_SHARDS must be an integer from 1 to 1024 (shards), got "1025"'],
    ['QDRANT_SHARDS', 'two', 'QDRANT_SHARDS must be an integer from 1 to 1024 (shards), got "two"'],
    ['QDRANT_REPLICATION_FACTOR', '65', 'QDRANT_REPLICATION_FACTOR must be an integer from 1 to 64 (replicas), got "65"'],
    ['QDRANT_WRITE_CONSISTENCY', '0', 'QDRANT_WRITE_CONSISTENCY must be an integer from 1 to 64 (replicas), got "0"'],
  ];
  for (const [setting, raw, message] of cases) {
    const err = configError({ [setting]: raw });
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.setting, setting);
    assert.equal(err.message, message);
  }
});

test('QDRANT_WRITE_CONSISTENCY cannot exceed the replication factor (default 1)', () => {
  const err = configError({ QDRANT_REPLICATION_FACTOR: '2', QDRANT_WRITE_CONSISTENCY: '3' });
  assert.equal(err.setting, 'QDRANT_WRITE_CONSISTENCY');
  assert.equal(err.message, 'QDRANT_WRITE_CONSISTENCY must be at most QDRANT_REPLICATION_FACTOR (2), got 3');
  assert.equal(
    configError({ QDRANT_WRITE_CONSISTENCY: '2' }).message,
    'QDRANT_WRITE_CONSISTENCY must be at most QDRANT_REPLICATION_FACTOR (1, the default), got 2',
  );
});

test('Qdrant layout settings: valid values reach the creation parameters; unset ones are not sent', () => {
  const cfg = configFromEnv({ QDRANT_SHARDS: '6', QDRANT_REPLICATION_FACTOR: '3', QDRANT_WRITE_CONSISTENCY: '2' }, '/tmp/x');
  assert.deepEqual([cfg.qdrantShards, cfg.qdrantReplicationFactor, cfg.qdrantWriteConsistency], [6, 3, 2]);
  assert.deepEqual(layoutParams({ shards: 6, replicationFactor: 3, writeConsistency: 2 }), {
    shard_number: 6,
    replication_factor: 3,
    write_consistency_factor: 2,
  });
  const unset = configFromEnv({ QDRANT_SHARDS: '' }, '/tmp/x');
  assert.deepEqual(layoutParams({ shards: unset.qdrantShards, replicationFactor: unset.qdrantReplicationFactor }), {});
});
