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
import { preinitialize } from './preinit.js';

export interface Observability {
  metrics: ApexMetrics;
  tracer: SagaTracer;
  /** Pass as AppOptions.hooks. */
  hooks: SagaHooks[];
  /** Pass as AppOptions.wrapStores (after any other wrapper, e.g. faults, so those are timed too). */
  wrapStores(stores: StoreSet): StoreSet;
  /** Starts the scrape-time readers on the opened app. */
  attach(app: { engine: SagaEngine<SagaLogBackend>; profile?: { describe(): { namespace: string | null } } }): void;
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
      metrics.namespaceInfo.set({ namespace: app.profile?.describe().namespace ?? '' }, 1);
      preinitialize(metrics, engine.names, engine.steps);
      propagateTraceContext(engine);
      watchStuck(metrics, engine.log, () => engine.names);
      watchCommits(metrics, engine.log);
      if (raw) watchPending(metrics, raw.postgres);
    },
  };
}
