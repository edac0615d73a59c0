// Worker and server logs: pino JSON lines that carry saga ids, and never a secret (URL
// credentials, secret-named fields, key=value pairs in messages are masked).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, maskSecrets, sagaLogHooks } from '../../src/logging/logger.js';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { planSaga, traceOf } from '../support/saga-fixtures.js';

function capture(level = 'debug'): {
  lines: () => Array<Record<string, unknown>>;
  raw: () => string;
  log: ReturnType<typeof createLogger>;
} {
  let raw = '';
  const log = createLogger({ name: 'worker', level, destination: { write: (s: string) => void (raw += s) } });
  return {
    log,
    raw: () => raw,
    lines: () =>
      raw
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

test('saga events are JSON lines with the saga id; a compensated saga is a warning with its reason', async () => {
  const { log, lines } = capture();
  const engine = new SagaEngine({ log: new MemorySagaLog(), heartbeatMs: 0, hooks: sagaLogHooks(log) });
  const out = await engine.execute(planSaga('lg', [{ name: 'a' }, { name: 'b', failOn: 'always' }], traceOf()), { n: 1 });
  assert.equal(out.status, 'compensated');
  const all = lines();
  assert.ok(all.every((l) => l.name === 'worker' && typeof l.time === 'string' && typeof l.level === 'number'));
  const end = all.find((l) => l.msg === 'saga compensated');
  assert.ok(end, JSON.stringify(all));
  assert.equal(end.sagaId, out.sagaId);
  assert.equal(end.level, 40); // warn
  assert.equal(end.code, 'TEST_FAILURE');
  assert.ok(all.some((l) => l.msg === 'saga started' && l.sagaId === out.sagaId));
});

test('info level keeps completed sagas quiet', async () => {
  const { log, raw } = capture('info');
  const engine = new SagaEngine({ log: new MemorySagaLog(), heartbeatMs: 0, hooks: sagaLogHooks(log) });
  await engine.execute(planSaga('quiet', [{ name: 'a' }], traceOf()), { n: 1 });
  assert.equal(raw(), '');
});

test('secrets never reach a line: URL passwords, secret-named fields, key=value in messages', () => {
  const { log, raw } = capture();
  log.warn(
    { databaseUrl: 'postgresql://apex:s3cret-pw@db:5432/apex', password: 'hunter2', nested: { apiKey: 'sk-live-123' } },
    'cannot connect to redis://:r3dis-pw@cache:6379 (password=hunter2)',
  );
  log.info('reason: connect failed for bolt://neo4j:n3o-pw@graph:7687');
  const text = raw();
  for (const secret of ['s3cret-pw', 'hunter2', 'sk-live-123', 'r3dis-pw', 'n3o-pw'])
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`);
  assert.match(text, /postgresql:\/\/\*\*\*@db:5432\/apex/);
  assert.match(text, /"password":"\[redacted\]"/);
});

test('maskSecrets leaves ordinary text alone', () => {
  assert.equal(
    maskSecrets('saga 0192 compensated at http://127.0.0.1:9464/metrics'),
    'saga 0192 compensated at http://127.0.0.1:9464/metrics',
  );
  assert.equal(maskSecrets('api_key: abc def'), 'api_key: *** def');
  assert.equal(maskSecrets('fencing token: 7'), 'fencing token: 7');
});
