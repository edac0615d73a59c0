// APEX_STORE_OUTAGE_BUDGET_STEPS (src/config/outage-steps.ts) and what it does to the policy of a
// step after the pivot: a budget set for that very step is taken as given (issue 22).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { outageStepsFromEnv } from '../../src/config/outage-steps.js';
import { ConfigError } from '../../src/config/numeric.js';
import { afterPivotRetry, OUTAGE_BUDGET_RANGE } from '../../src/ingest/sagas/outage-budget.js';

test('parses step=ms pairs; refuses malformed entries naming the variable', () => {
  assert.equal(outageStepsFromEnv({}, OUTAGE_BUDGET_RANGE), undefined);
  assert.deepEqual(
    outageStepsFromEnv({ APEX_STORE_OUTAGE_BUDGET_STEPS: 'redis_write=3000, delete.neo4j_delete=20000' }, OUTAGE_BUDGET_RANGE),
    { redis_write: 3000, 'delete.neo4j_delete': 20000 },
  );
  for (const bad of ['redis_write', 'redis_write=abc', 'Redis=1', 'a=1=2', 'redis_write=-1', 'x=\u001b[2J']) {
    assert.throws(
      () => outageStepsFromEnv({ APEX_STORE_OUTAGE_BUDGET_STEPS: bad }, OUTAGE_BUDGET_RANGE),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /APEX_STORE_OUTAGE_BUDGET_STEPS/);
        assert.ok(!err.message.includes('\u001b'), 'no raw escape character');
        return true;
      },
    );
  }
});

test('a step after the pivot keeps at least 60 s unless its own budget is set', () => {
  assert.deepEqual(afterPivotRetry({ defaultMs: 3_000 }, 'ingest', 'redis_write'), { budgetMs: 60_000 });
  assert.deepEqual(afterPivotRetry({ defaultMs: 300_000, steps: { redis_write: 3_000 } }, 'ingest', 'redis_write'), { budgetMs: 3_000 });
  assert.deepEqual(afterPivotRetry({ steps: { 'delete.redis_write': 2_000 } }, 'ingest', 'redis_write'), { budgetMs: 60_000 });
});
