// Bearer-token helpers: loopback detection, the refusal to bind off loopback without a token, and
// the constant-time comparison (equal only for the exact token, whatever the lengths).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSafeBind, isLoopbackHost, tokenMatches } from '../../src/http/auth.js';

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', 'LOCALHOST']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', '128.0.0.1', '127.0.0.1.nip.io'])
    assert.equal(isLoopbackHost(h), false, h);
});

test('off loopback needs a token of at least 16 characters', () => {
  assert.doesNotThrow(() => assertSafeBind('127.0.0.1', undefined));
  assert.throws(
    () => assertSafeBind('0.0.0.0', undefined),
    (e: { code?: string }) => e.code === 'HTTP_UNSAFE_BIND',
  );
  assert.throws(
    () => assertSafeBind('0.0.0.0', 'short'),
    (e: { code?: string }) => e.code === 'HTTP_UNSAFE_BIND',
  );
  assert.doesNotThrow(() => assertSafeBind('0.0.0.0', 'a-long-enough-token'));
});

test('token comparison: exact match only', () => {
  const t = 'correct-horse-battery-staple';
  assert.equal(tokenMatches(t, t), true);
  for (const wrong of ['', 'c', t.slice(0, -1), `${t}x`, t.toUpperCase(), `${t.slice(0, -1)}f`])
    assert.equal(tokenMatches(wrong, t), false, wrong);
});
