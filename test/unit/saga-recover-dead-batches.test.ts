// recover() keeps claiming a dead local owner's sagas between its once-a-second owner scans: a
// killed process's sagas are all resumed at once, batch after batch, not one batch a second with
// the rest waiting out their leases (bench/recovery.ts: 10,000 sagas, 30 s before, ~4 s after).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, defineSaga, processOwnerId } from '../../src/saga/index.js';

/** An owner id of this host whose process has exited. */
function deadOwnerId(): string {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const [host, , start] = processOwnerId().split(':');
  return `${host}:${child.stdout}:${start}:dead01`;
}

test('recover() claims every batch of a dead owner within one scan interval', async () => {
  const log = new MemorySagaLog();
  const dead = deadOwnerId();
  for (let i = 0; i < 6; i++) {
    await log.begin({ sagaId: `s${i}`, name: 'batchy', version: 1, input: {}, status: 'running', owner: dead, leaseMs: 600_000 });
  }
  const engine = new SagaEngine({ log });
  engine.register(
    defineSaga<Record<string, never>>('batchy', 1)
      .step({ name: 'a', run: async () => undefined })
      .build(),
  );
  let claimed = 0;
  // Three calls well within one second: before the fix only the first one saw the dead owner.
  for (let i = 0; i < 3; i++) claimed += await engine.recover({ limit: 2 });
  await engine.idle();
  assert.equal(claimed, 6);
  assert.equal(await log.count({ status: 'completed' }), 6);
  await engine.close();
});
