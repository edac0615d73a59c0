// Trace context into the saga log: every saga this engine starts or queues gets
// `meta.traceparent` (ExecuteOptions.meta, stored with the saga), unless the caller set one. The
// saga's spans, in this process and in any process that resumes it later, are children of it, so
// one saga's whole life is one trace. Done by wrapping the engine's two entry points, so neither
// the engine (which knows no tracing) nor the callers (writer, CLI, API) need to know.
import type { SagaEngine } from '../saga/index.js';
import { traceMeta } from './traceparent.js';

type WithMeta = { meta?: Record<string, string> } & Record<string, unknown>;

export function propagateTraceContext(engine: SagaEngine): void {
  const target = engine as unknown as {
    execute: (def: unknown, input: unknown, opts?: WithMeta) => Promise<unknown>;
    submit: (def: unknown, input: unknown, opts?: WithMeta) => Promise<unknown>;
  };
  const withMeta = (opts: WithMeta = {}): WithMeta => (opts.meta?.traceparent !== undefined ? opts : { ...opts, meta: { ...opts.meta, ...traceMeta() } });
  const execute = target.execute.bind(engine);
  const submit = target.submit.bind(engine);
  target.execute = (def, input, opts) => execute(def, input, withMeta(opts));
  target.submit = (def, input, opts) => submit(def, input, withMeta(opts));
}
