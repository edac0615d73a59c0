// Saga traces through @opentelemetry/api, checked with the SDK's in-memory exporter (a dev
// dependency; src/ uses the API only): the span tree of a compensated saga, store spans, and
// silence with no SDK registered. tracing-resume.test.ts: a resumed saga continues its trace.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MemorySagaLog } from '../../src/log/memory.js';
import { instrumentStores } from '../../src/metrics/stores.js';
import { ApexMetrics } from '../../src/metrics/registry.js';
import { defineSaga, SagaEngine } from '../../src/saga/index.js';
import type { StoreSet } from '../../src/stores/types.js';
import { ATTR, SagaTracer } from '../../src/tracing/saga-tracer.js';
import { planSaga, traceOf } from '../support/saga-fixtures.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
trace.setGlobalTracerProvider(provider); // the application's provider: the tracer must use it
after(() => trace.disable());

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const named = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);
function one(spans: ReadableSpan[], name: string): ReadableSpan {
  const found = named(spans, name);
  assert.equal(found.length, 1, `one span "${name}" in ${spans.map((s) => s.name).join(', ')}`);
  return found[0] as ReadableSpan;
}

test('a compensated saga: one saga span, a child per step attempt and per compensation, with attributes', async () => {
  exporter.reset();
  const tracer = new SagaTracer();
  const engine = new SagaEngine({ log: new MemorySagaLog(), heartbeatMs: 0, hooks: tracer.hooks() });
  const saga = planSaga(
    'tx',
    [{ name: 'a' }, { name: 'b', failOn: [1], retryable: true, maxAttempts: 2 }, { name: 'c', failOn: 'always' }],
    traceOf(),
  );
  const out = await engine.execute(saga, { n: 1 });
  assert.equal(out.status, 'compensated');
  const spans = exporter.getFinishedSpans();
  const root = one(spans, 'saga tx');
  assert.equal(parentOf(root), undefined);
  assert.equal(root.attributes[ATTR.sagaId], out.sagaId);
  assert.equal(root.attributes[ATTR.status], 'compensated');
  assert.equal(root.status.code, 2); // ERROR
  const steps = spans.filter((s) => s !== root);
  for (const s of steps) {
    assert.equal(parentOf(s), root.spanContext().spanId, `${s.name} is a child of the saga span`);
    assert.equal(s.spanContext().traceId, root.spanContext().traceId);
  }
  const b = named(spans, 'step b').sort((x, y) => Number(x.attributes[ATTR.attempt]) - Number(y.attributes[ATTR.attempt]));
  assert.deepEqual(
    b.map((s) => [s.attributes[ATTR.attempt], s.status.code]),
    [
      [1, 2],
      [2, 0],
    ],
  );
  assert.equal(one(spans, 'step c').status.code, 2);
  for (const step of ['a', 'b', 'c']) {
    const comp = one(spans, `compensate ${step}`);
    assert.equal(comp.attributes[ATTR.phase], 'compensate');
    assert.equal(comp.attributes[ATTR.step], step);
  }
  assert.equal(tracer.openSpans, 0);
});

test('store calls become child spans of their saga, with store, operation and fencing token', async () => {
  exporter.reset();
  const tracer = new SagaTracer();
  const stores = instrumentStores(
    {
      postgres: { name: 'postgres' },
      neo4j: { name: 'neo4j', writeVersion: async () => {} },
      qdrant: { name: 'qdrant' },
      redis: { name: 'redis' },
    } as unknown as StoreSet,
    new ApexMetrics(),
    tracer.storeListener,
  );
  const saga = defineSaga<{ n: number }>('st', 1)
    .step({
      name: 'w',
      run: async (ctx) => stores.neo4j.writeVersion({} as never, { sagaId: ctx.sagaId, fencingToken: ctx.fencingToken }).then(() => null),
    })
    .build();
  const engine = new SagaEngine({ log: new MemorySagaLog(), heartbeatMs: 0, hooks: tracer.hooks() });
  await engine.execute(saga, { n: 1 });
  const spans = exporter.getFinishedSpans();
  const store = one(spans, 'store neo4j.writeVersion');
  assert.equal(parentOf(store), one(spans, 'saga st').spanContext().spanId);
  assert.equal(store.attributes[ATTR.store], 'neo4j');
  assert.equal(typeof store.attributes[ATTR.fencingToken], 'number');
});

test('with no SDK registered the tracer records nothing and costs no state', async () => {
  trace.disable();
  try {
    const tracer = new SagaTracer();
    exporter.reset();
    const engine = new SagaEngine({ log: new MemorySagaLog(), heartbeatMs: 0, hooks: tracer.hooks() });
    await engine.execute(planSaga('quiet', [{ name: 'a' }], traceOf()), { n: 1 });
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.equal(tracer.openSpans, 0);
  } finally {
    trace.setGlobalTracerProvider(provider);
  }
});
