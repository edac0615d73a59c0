// Numeric settings fail at start with a typed error naming the setting and its range, instead of
// becoming NaN (issue 15: APEX_STORE_TIMEOUT_MS=abc). Flags go through the same check.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InvalidArgumentError } from 'commander';
import { duration, intInRange, positiveInt } from '../../src/cli/args.js';
import { describeError, EXIT_USAGE } from '../../src/cli/errors.js';
import { main } from '../../src/cli/main.js';
import { openApp } from '../../src/app.js';
import { ConfigError, intFromEnv } from '../../src/config/numeric.js';
import { parseDecimalInt } from '../../src/lib/int-range.js';
import { configFromEnv } from '../../src/config/profile.js';

const BAD_INTEGERS = ['abc', '1e3', '0x10', '12.5', '1_000', '5000ms', 'NaN', 'Infinity', '-', '99999999999999999999'];

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('APEX_STORE_TIMEOUT_MS: malformed or out of range fails naming the variable and the range', () => {
  for (const raw of [...BAD_INTEGERS, '99', '0', '-5', '3600001']) {
    const err = configError(() => configFromEnv({ APEX_STORE_TIMEOUT_MS: raw }, '/tmp/x'));
    assert.equal(err.code, 'CONFIG_INVALID');
    assert.equal(err.setting, 'APEX_STORE_TIMEOUT_MS');
    assert.equal(err.message, `APEX_STORE_TIMEOUT_MS must be an integer from 100 to 3600000 (milliseconds), got ${JSON.stringify(raw)}`);
  }
});

test('APEX_STORE_TIMEOUT_MS: valid values, unset and empty', () => {
  assert.equal(configFromEnv({ APEX_STORE_TIMEOUT_MS: '100' }, '/tmp/x').storeTimeoutMs, 100);
  assert.equal(configFromEnv({ APEX_STORE_TIMEOUT_MS: ' 2500 ' }, '/tmp/x').storeTimeoutMs, 2500);
  assert.equal(configFromEnv({ APEX_STORE_TIMEOUT_MS: '3600000' }, '/tmp/x').storeTimeoutMs, 3_600_000);
  assert.equal(configFromEnv({}, '/tmp/x').storeTimeoutMs, undefined);
  assert.equal(configFromEnv({ APEX_STORE_TIMEOUT_MS: '' }, '/tmp/x').storeTimeoutMs, undefined);
});

test('APEX_SAGA_LOG_SYNC: anything but FULL or NORMAL is refused rather than ignored', () => {
  assert.equal(configFromEnv({ APEX_SAGA_LOG_SYNC: 'normal' }, '/tmp/x').sqliteSynchronous, 'NORMAL');
  assert.equal(configFromEnv({ APEX_SAGA_LOG_SYNC: '' }, '/tmp/x').sqliteSynchronous, undefined);
  const err = configError(() => configFromEnv({ APEX_SAGA_LOG_SYNC: 'OFF' }, '/tmp/x'));
  assert.equal(err.setting, 'APEX_SAGA_LOG_SYNC');
  assert.match(err.message, /FULL or NORMAL, got "OFF"/);
});

test('the CLI treats a ConfigError as a configuration error: its code, no stack, exit 2', () => {
  const d = describeError(new ConfigError('APEX_STORE_TIMEOUT_MS', 'APEX_STORE_TIMEOUT_MS must be ...'));
  assert.deepEqual([d.code, d.expected, d.exitCode], ['CONFIG_INVALID', true, EXIT_USAGE]);
});

test('apex-memory status with APEX_STORE_TIMEOUT_MS=abc exits 2 before opening anything', async () => {
  const dataDir = join(tmpdir(), `apex-config-test-${process.pid}`);
  const saved = process.env.APEX_STORE_TIMEOUT_MS;
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.env.APEX_STORE_TIMEOUT_MS = 'abc';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'apex-memory', '--data-dir', dataDir, 'status']);
    assert.equal(code, EXIT_USAGE);
  } finally {
    process.stderr.write = write;
    if (saved === undefined) delete process.env.APEX_STORE_TIMEOUT_MS;
    else process.env.APEX_STORE_TIMEOUT_MS = saved;
  }
  assert.equal(
    stderr,
    'apex-memory: error [CONFIG_INVALID]: APEX_STORE_TIMEOUT_MS must be an integer from 100 to 3600000 (milliseconds), got "abc"\n',
  );
  assert.equal(existsSync(dataDir), false, 'no data dir was created');
});

test('APEX_LEASE_MS=abc: openApp fails with the typed error before opening anything', async () => {
  const dataDir = join(tmpdir(), `apex-lease-test-${process.pid}`);
  await assert.rejects(
    openApp({ env: { APEX_LEASE_MS: 'abc' }, dataDir }),
    (err: unknown) =>
      err instanceof ConfigError &&
      err.setting === 'APEX_LEASE_MS' &&
      err.message === 'APEX_LEASE_MS must be an integer from 100 to 3600000 (milliseconds), got "abc"',
  );
  assert.equal(existsSync(dataDir), false, 'no data dir was created');
});

test('integer flags: plain decimal digits within the stated range', () => {
  const concurrency = positiveInt(256);
  assert.equal(concurrency('8'), 8);
  assert.equal(concurrency(' 256 '), 256);
  for (const raw of [...BAD_INTEGERS, '0', '257', '-1', '']) {
    assert.throws(
      () => concurrency(raw),
      (err: unknown) =>
        err instanceof InvalidArgumentError && err.message === `expected an integer from 1 to 256, got ${JSON.stringify(raw)}`,
    );
  }
  const port = intInRange(0, 65_535);
  assert.equal(port('0'), 0);
  assert.throws(() => port('65536'), /from 0 to 65535/);
});

test('durations: bounded, so huge values cannot become Infinity or an invalid date', () => {
  assert.equal(duration('0s'), 0);
  assert.equal(duration('90s'), 90_000);
  assert.equal(duration('7d'), 604_800_000);
  assert.equal(duration('36500d'), 36_500 * 86_400_000);
  for (const raw of ['36501d', '99999999999999999999d', '7', '7w', '-1d', '1.5h', '']) {
    assert.throws(
      () => duration(raw),
      (err: unknown) => err instanceof InvalidArgumentError && /from 0s to 36500d/.test(err.message),
    );
  }
});

test('parseDecimalInt and intFromEnv', () => {
  assert.equal(parseDecimalInt('42'), 42);
  assert.equal(parseDecimalInt('-7'), -7);
  for (const raw of BAD_INTEGERS) assert.equal(parseDecimalInt(raw), undefined, raw);
  assert.equal(intFromEnv({ X: '  ' }, 'X', { min: 1, max: 2 }), undefined);
  assert.throws(() => intFromEnv({ X: '3' }, 'X', { min: 1, max: 2 }), /^ConfigError: X must be an integer from 1 to 2, got "3"$/);
});
