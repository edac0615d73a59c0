// Trace context into the saga log: every saga this engine starts or queues gets
// `meta.traceparent` (ExecuteOptions.meta, stored with the saga), unless the caller set one. The
// saga's spans, in this process and in any process that resumes it later, are children of it, so
// one saga's whole life is one trace. Done by wrapping the engine's two entry points, so neither
// the engine (which knows no tracing) nor the callers (writer, CLI, API) need to know.
import type { ExecuteOptions, SagaDefinition, SagaEngine } from '../saga/index.js';
import { traceMeta } from './traceparent.js';

export function propagateTraceContext(engine: SagaEngine): void {
  const withMeta = (opts: ExecuteOptions = {}): ExecuteOptions =>
    opts.meta?.traceparent !== undefined ? opts : { ...opts, meta: { ...opts.meta, ...traceMeta() } };
  const execute = engine.execute.bind(engine);
  const submit = engine.submit.bind(engine);
  engine.execute = <I, R>(def: SagaDefinition<I, R>, input: I, opts?: ExecuteOptions) => execute(def, input, withMeta(opts));
  engine.submit = <I, R>(def: SagaDefinition<I, R>, input: I, opts?: ExecuteOptions) => submit(def, input, withMeta(opts));
}
