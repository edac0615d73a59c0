import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newSagaId } from '../../packages/saga/src/ids.js';

test('engine saga ids are RFC 9562 UUIDv7, unique and increasing', () => {
  const ids = Array.from({ length: 5000 }, () => newSagaId());
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(new Set(ids).size, ids.length);
  assert.deepEqual([...ids].sort(), ids, 'time-ordered within a process');
  const ms = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16);
  assert.ok(Math.abs(ms - Date.now()) < 5_000, 'the first 48 bits are the time in ms');
});
