// One process's observability, assembled: metrics registry, saga hooks (metrics, traces), the
// store wrapper, and the scrape-time readers. A command creates it before opening the app (hooks
// and the store wrapper are app options) and attaches it to the app once open.
import type { SagaEngine, SagaHooks, SagaLogBackend } from '../saga/index.js';
import type { StoreSet } from '../stores/types.js';
import { propagateTraceContext } from '../tracing/propagate.js';
import { SagaTracer } from '../tracing/saga-tracer.js';
import { ApexMetrics, type MetricsOptions } from './registry.js';
import { sagaMetricHooks } from './saga-hooks.js';
import { watchCommits, watchPending, watchStuck } from './scrape.js';
import { instrumentStores } from './stores.js';

export interface Observability {
  metrics: ApexMetrics;
  tracer: SagaTracer;
  /** Pass as AppOptions.hooks. */
  hooks: SagaHooks[];
  /** Pass as AppOptions.wrapStores (after any other wrapper, e.g. faults, so those are timed too). */
  wrapStores(stores: StoreSet): StoreSet;
  /** Starts the scrape-time readers on the opened app. */
  attach(app: { engine: SagaEngine<SagaLogBackend> }): void;
}

export function createObservability(opts: MetricsOptions & { extraHooks?: SagaHooks[] } = {}): Observability {
  const metrics = new ApexMetrics(opts);
  const tracer = new SagaTracer();
  let raw: StoreSet | undefined;
  return {
    metrics,
    tracer,
    hooks: [sagaMetricHooks(metrics), tracer.hooks(), ...(opts.extraHooks ?? [])],
    wrapStores(stores) {
      raw = stores;
      return instrumentStores(stores, metrics, tracer.storeListener);
    },
    attach(app) {
      const engine = app.engine;
      preinitialize(metrics, engine.names);
      propagateTraceContext(engine);
      watchStuck(metrics, engine.log, () => engine.names);
      watchCommits(metrics, engine.log);
      if (raw) watchPending(metrics, raw.postgres);
    },
  };
}

/**
 * Zero series for every saga this process can run and its main outcomes, so that a counter's first
 * scrape is 0 rather than its first increase: rate() then counts from the process's start, and
 * every outcome's rate shares the same extrapolation (ratios such as the compensation rate stay exact).
 */
function preinitialize(m: ApexMetrics, names: readonly string[]): void {
  for (const saga of names) {
    m.sagasStarted.inc({ saga, resumed: 'false' }, 0);
    m.sagasStarted.inc({ saga, resumed: 'true' }, 0);
    m.sagasInFlight.inc({ saga }, 0);
    for (const outcome of ['completed', 'compensated', 'stuck', 'cancelled']) m.sagasFinished.inc({ saga, outcome }, 0);
  }
  for (const event of ['claim', 'takeover', 'lost', 'fenced']) m.leaseEvents.inc({ event }, 0);
  for (const store of ['postgres', 'neo4j', 'qdrant', 'redis']) m.fencedWrites.inc({ store }, 0);
}
