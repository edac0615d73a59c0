// Outage budgets (issue 15 part 1): which budget a step gets, the policies the ingest and delete
// sagas carry, and the bookkeeping of documents waiting on a store that is down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Embedder } from '../../src/ingest/embedder.js';
import { deleteSaga } from '../../src/ingest/sagas/delete-saga.js';
import { ingestSaga } from '../../src/ingest/sagas/ingest-saga.js';
import { budgetFor, storeRetry, type OutageBudgets } from '../../src/ingest/sagas/outage-budget.js';
import { StoreWaits, formatStoreCounts, storeOfFailure, waitingOn } from '../../src/ingest/store-waits.js';
import type { SagaDefinition } from '../../src/saga/index.js';
import { waitingText } from '../../src/cli/progress.js';
import type { StoreSet } from '../../src/stores/types.js';

const deps = (outage?: OutageBudgets) => ({ stores: {} as StoreSet, embedder: {} as Embedder, ...(outage ? { outage } : {}) });

function policies(
  def: SagaDefinition<never, unknown> | SagaDefinition<unknown, unknown>,
): Record<string, { budgetMs?: number; maxAttempts?: number; maxDelayMs?: number } | undefined> {
  const out: Record<string, { budgetMs?: number; maxAttempts?: number } | undefined> = {};
  for (const stage of def.stages) for (const s of stage.steps) out[s.name] = s.retry;
  return out;
}

test('budgetFor: saga.step, then step, then saga, then default, then 60 s', () => {
  const b: OutageBudgets = {
    defaultMs: 10_000,
    sagas: { delete: 20_000 },
    steps: { neo4j_write: 30_000, 'ingest_adr.neo4j_write': 40_000 },
  };
  assert.equal(budgetFor(undefined, 'ingest', 'neo4j_write'), 60_000);
  assert.equal(budgetFor(b, 'ingest', 'postgres_pending'), 10_000);
  assert.equal(budgetFor(b, 'delete', 'neo4j_delete'), 20_000);
  assert.equal(budgetFor(b, 'ingest', 'neo4j_write'), 30_000);
  assert.equal(budgetFor(b, 'ingest_adr', 'neo4j_write'), 40_000);
  assert.throws(() => budgetFor({ defaultMs: -1 }, 'ingest', 'x'), RangeError);
});

test('the ingest saga: every step before the pivot, and the pivot, retries for the budget; 0 restores 4 quick attempts', () => {
  const p = policies(ingestSaga(deps()));
  for (const step of ['neo4j_write', 'qdrant_write', 'postgres_commit']) {
    assert.equal(p[step]?.budgetMs, 60_000, step);
    assert.equal(p[step]?.maxAttempts, undefined, `${step}: attempts unbounded within the budget`);
  }
  // The first step also waits for a document another saga holds: short pauses.
  assert.equal(p.postgres_pending?.budgetMs, 60_000);
  assert.equal(p.postgres_pending?.maxDelayMs, 1_000);
  assert.ok((p.redis_write?.budgetMs ?? 0) >= 60_000, 'after the pivot: at least as long');
  const quick = policies(ingestSaga(deps({ defaultMs: 0 })));
  assert.deepEqual(quick.neo4j_write, storeRetry({ defaultMs: 0 }, 'ingest', 'neo4j_write'));
  assert.equal(quick.neo4j_write?.maxAttempts, 4);
  assert.equal(quick.postgres_pending?.maxAttempts, 30);
  assert.equal(quick.redis_write, undefined, 'after the pivot: the engine default');
  const perStep = policies(ingestSaga(deps({ steps: { 'ingest.qdrant_write': 5_000 } })));
  assert.equal(perStep.qdrant_write?.budgetMs, 5_000);
  assert.equal(perStep.neo4j_write?.budgetMs, 60_000);
  const adr = policies(ingestSaga(deps({ sagas: { ingest_adr: 7_000 } }), 'adr'));
  assert.equal(adr.qdrant_write?.budgetMs, 7_000);
  assert.equal(adr.neo4j_write?.budgetMs, 25_000, 'the adr plan takes the document in neo4j_write: it waits at least 25 s for it');
});

test('the delete saga carries its budgets too', () => {
  const p = policies(deleteSaga(deps({ sagas: { delete: 90_000 } })));
  for (const step of ['postgres_mark_deleting', 'redis_delete', 'neo4j_delete', 'qdrant_delete', 'postgres_delete'])
    assert.equal(p[step]?.budgetMs, 90_000, step);
});

test('storeOfFailure: store errors by their prefix, engine timeouts by the step, STORE_BUSY is no outage', () => {
  assert.equal(
    storeOfFailure('neo4j_write', { code: 'STORE_TRANSIENT', message: 'neo4j: writeVersion failed: ServiceUnavailable' }),
    'neo4j',
  );
  assert.equal(storeOfFailure('cleanup_previous', { code: 'STORE_TRANSIENT', message: 'qdrant: delete failed' }), 'qdrant');
  assert.equal(storeOfFailure('redis_write', { code: 'STEP_TIMEOUT', message: 'step "redis_write" timed out after 10 ms' }), 'redis');
  assert.equal(storeOfFailure('postgres_pending', { code: 'STORE_BUSY', message: 'postgres: held by saga x' }), undefined);
  assert.equal(storeOfFailure('x', { code: 'STEP_FAILED', message: 'boom' }), undefined);
});

test('StoreWaits: onRetry marks a saga waiting, success or the saga end clears it; totals keep who waited', () => {
  let now = 1_000;
  const w = new StoreWaits(() => now);
  const base = { saga: 'ingest', version: 1, phase: 'forward' as const, attempt: 1, delayMs: 100 };
  const neo = { code: 'STORE_TRANSIENT', message: 'neo4j: down' };
  w.hooks.onRetry?.({ ...base, sagaId: 'a', step: 'neo4j_write', error: neo });
  w.hooks.onRetry?.({ ...base, sagaId: 'b', step: 'neo4j_write', error: neo });
  w.hooks.onRetry?.({
    ...base,
    sagaId: 'c',
    step: 'postgres_commit',
    error: { code: 'STORE_TRANSIENT', message: 'postgres: down' },
    durable: true,
    delayMs: 3_000,
  });
  w.note('doc:d', 'postgres');
  assert.deepEqual(w.current(), { neo4j: 2, postgres: 2 });
  assert.equal(formatStoreCounts(w.current()), 'postgres: 2, neo4j: 2');
  w.hooks.onStepEnd?.({ saga: 'ingest', version: 1, sagaId: 'a', step: 'qdrant_write', attempt: 1, durationMs: 1, ok: true });
  assert.deepEqual(w.current(), { neo4j: 2, postgres: 2 }, 'another step of the saga succeeding does not clear it');
  w.hooks.onStepEnd?.({ saga: 'ingest', version: 1, sagaId: 'a', step: 'neo4j_write', attempt: 2, durationMs: 1, ok: true });
  w.hooks.onSagaEnd?.({ saga: 'ingest', version: 1, sagaId: 'b', status: 'compensated', durationMs: 1, meta: undefined } as never);
  w.hooks.onSagaEnd?.({ saga: 'ingest', version: 1, sagaId: 'c', status: 'suspended', durationMs: 1, meta: undefined } as never);
  w.clear('doc:d');
  assert.deepEqual(w.current(), { postgres: 1 }, 'a suspended saga (durable timer) still waits');
  now += 3_000 + 60_001;
  assert.deepEqual(w.current(), {}, 'a durable wait that ended elsewhere is forgotten');
  assert.deepEqual(w.total(), { neo4j: 2, postgres: 2 });
});

test('waitingOn: the log shows a step retrying a store that has not succeeded since', () => {
  const failed = (step: string, message: string, willRetry = true) =>
    ({ type: 'step_failed', step, attempt: 1, error: { code: 'STORE_TRANSIENT', message }, willRetry }) as const;
  assert.equal(
    waitingOn([
      { type: 'step_started', step: 'neo4j_write', attempt: 1 },
      failed('neo4j_write', 'neo4j: down'),
      { type: 'step_started', step: 'neo4j_write', attempt: 2 },
    ]),
    'neo4j',
  );
  assert.equal(waitingOn([failed('neo4j_write', 'neo4j: down'), { type: 'step_succeeded', step: 'neo4j_write', output: null }]), undefined);
  assert.equal(waitingOn([failed('neo4j_write', 'neo4j: down', false)]), undefined, 'a final failure is no wait');
  assert.equal(waitingOn([failed('neo4j_write', 'neo4j: down'), failed('postgres_commit', 'postgres: down')]), 'postgres');
});

test('the progress line names the stores documents wait on, and nothing when none', () => {
  assert.equal(waitingText({ neo4j: 12 }), ', waiting on neo4j: 12');
  assert.equal(waitingText({ redis: 1, postgres: 3 }), ', waiting on postgres: 3, redis: 1');
  assert.equal(waitingText({}), '');
  assert.equal(waitingText(undefined), '');
});
