// A saga resumed by a second engine (another process, same saga log) continues the trace whose
// context the first one stored with the saga (meta.traceparent), checked with the SDK's in-memory
// exporter.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MemorySagaLog } from '../../src/log/memory.js';
import { defineSaga, SagaEngine, type SagaHooks } from '../../src/saga/index.js';
import { propagateTraceContext } from '../../src/tracing/propagate.js';
import { ATTR, SagaTracer } from '../../src/tracing/saga-tracer.js';
import { formatTraceparent, parseTraceparent } from '../../src/tracing/traceparent.js';
import { allSagas } from '../support/log-pages.js';

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
after(() => trace.disable());

const parentOf = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;
const named = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);

test('a saga resumed by a second engine (another process) continues the trace stored in the log', async () => {
  exporter.reset();
  const log = new MemorySagaLog();
  let release: () => void = () => undefined;
  const blocked = new Promise<void>((r) => (release = r));
  let markStarted: () => void = () => undefined;
  const started = new Promise<void>((r) => (markStarted = r));
  const def = (engineNo: number) =>
    defineSaga<{ n: number }>('resume', 1)
      .step({ name: 'first', run: async () => engineNo, compensate: async () => {} })
      .step({
        name: 'second',
        run: async (ctx) => {
          if (engineNo === 1) {
            markStarted();
            await Promise.race([
              blocked,
              new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error))),
            ]);
          }
          return engineNo;
        },
        compensate: async () => {},
      })
      .build();
  const hooks = (t: SagaTracer): SagaHooks => t.hooks();
  const e1 = new SagaEngine({ log, owner: 'p1', leaseMs: 60_000, heartbeatMs: 0, hooks: hooks(new SagaTracer()) });
  propagateTraceContext(e1);
  const run1 = e1.execute(def(1), { n: 1 }).catch(() => undefined);
  await started;
  await e1.close({ graceMs: 0 }); // "process 1 stops": the saga is released mid-step
  await run1;
  release();
  const stored = (await allSagas(log))[0];
  assert.ok(stored);
  const meta = ((await log.load(stored.sagaId)) as unknown as { meta?: Record<string, string> | null }).meta;
  const parent = parseTraceparent(meta?.traceparent);
  assert.ok(parent, `traceparent stored with the saga (meta: ${JSON.stringify(meta)})`);

  const e2 = new SagaEngine({ log, owner: 'p2', leaseMs: 60_000, heartbeatMs: 0, hooks: hooks(new SagaTracer()) });
  e2.register(def(2));
  assert.equal(await e2.recover({ limit: 1 }), 1);
  await e2.idle();
  await e2.close();
  const sagaSpans = named(exporter.getFinishedSpans(), 'saga resume');
  assert.equal(sagaSpans.length, 2, 'one saga span per process');
  for (const s of sagaSpans) {
    assert.equal(s.spanContext().traceId, parent.traceId, 'same trace in both processes');
    assert.equal(parentOf(s), parent.spanId);
  }
  const resumed = sagaSpans.find((s) => s.attributes[ATTR.resumed] === true);
  assert.ok(resumed, 'the second process marks its span resumed');
  assert.equal(resumed.attributes[ATTR.status], 'completed');
  assert.ok(Number(resumed.attributes[ATTR.fencingToken]) >= 2, "the claim's fencing token is on the resumed span");
  assert.equal(formatTraceparent(parent), meta?.traceparent);
});
