// Engine hooks -> OpenTelemetry spans, through @opentelemetry/api only: with no SDK registered
// every call is a no-op, and an application's own provider is used as it is. One span per saga
// (per process working on it), a child span per step attempt and per compensation attempt, and a
// child span per store call that carried the saga's write context (with its fencing token).
// A saga's span continues the trace stored in its meta (traceparent), so a saga resumed by
// another process lands in the same trace.
import { SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { SagaHooks } from '../saga/index.js';
import type { StoreCallListener } from '../lib/store-calls.js';
import { contextFromMeta } from './traceparent.js';
import { errorCode } from '../lib/errors.js';

export const TRACER_NAME = 'apex-memory';

interface OpenSaga {
  span: Span;
  ctx: Context;
}

/** Span attribute keys (one place, so tests and docs agree). */
export const ATTR = {
  sagaId: 'apex.saga.id',
  saga: 'apex.saga.name',
  resumed: 'apex.saga.resumed',
  status: 'apex.saga.status',
  step: 'apex.step.name',
  phase: 'apex.step.phase',
  attempt: 'apex.step.attempt',
  store: 'apex.store',
  operation: 'apex.store.operation',
  fencingToken: 'apex.fencing_token',
} as const;

export class SagaTracer {
  private readonly tracer: Tracer;
  private readonly sagas = new Map<string, OpenSaga>();
  private readonly steps = new Map<string, Span>();
  /** Fencing tokens of sagas this process just claimed, until their saga span starts. */
  private readonly claimed = new Map<string, number>();

  constructor(tracer?: Tracer) {
    this.tracer = tracer ?? trace.getTracer(TRACER_NAME);
  }

  hooks(): SagaHooks {
    return {
      onSagaStart: (e) => {
        const meta = e.meta;
        const span = this.tracer.startSpan(
          `saga ${e.saga}`,
          { kind: SpanKind.INTERNAL, attributes: { [ATTR.sagaId]: e.sagaId, [ATTR.saga]: e.saga, [ATTR.resumed]: e.resumed } },
          contextFromMeta(meta),
        );
        const token = this.claimed.get(e.sagaId);
        if (token !== undefined) {
          span.setAttribute(ATTR.fencingToken, token);
          this.claimed.delete(e.sagaId);
        }
        this.sagas.get(e.sagaId)?.span.end(); // a stale entry (should not happen): close it
        this.sagas.set(e.sagaId, { span, ctx: trace.setSpan(contextFromMeta(meta), span) });
      },
      onClaim: (e) => {
        if (this.claimed.size >= 10_000) this.claimed.clear(); // claims whose run never started: do not grow
        this.claimed.set(e.sagaId, e.fencingToken);
      },
      onSagaEnd: (e) => {
        const open = this.sagas.get(e.sagaId);
        if (!open) return;
        this.sagas.delete(e.sagaId);
        open.span.setAttribute(ATTR.status, e.status);
        if (e.status !== 'completed')
          open.span.setStatus({ code: SpanStatusCode.ERROR, message: e.reason ? `${e.reason.code}: ${e.reason.message}` : e.status });
        this.closeSteps(e.sagaId);
        open.span.end();
      },
      onFenced: (e) => this.abandon(e.sagaId, 'fenced'),
      onLeaseLost: (e) => this.abandon(e.sagaId, 'lease lost'),
      onStepStart: (e) => this.startStep(e.sagaId, e.saga, e.step, 'run', e.attempt),
      onStepEnd: (e) => this.endStep(e.sagaId, e.step, 'run', e.ok, e.error),
      onCompensationStart: (e) => this.startStep(e.sagaId, e.saga, e.step, 'compensate', e.attempt),
      onCompensationEnd: (e) => this.endStep(e.sagaId, e.step, 'compensate', e.ok, e.error),
    };
  }

  /** For instrumentStores: one span per store call, child of its saga's span. */
  readonly storeListener: StoreCallListener = (call) => {
    const open = this.sagas.get(call.sagaId);
    if (!open) return;
    open.span.setAttribute(ATTR.fencingToken, call.fencingToken);
    const span = this.tracer.startSpan(
      `store ${call.store}.${call.operation}`,
      {
        kind: SpanKind.CLIENT,
        startTime: performance.timeOrigin + call.startMs,
        attributes: {
          [ATTR.sagaId]: call.sagaId,
          [ATTR.store]: call.store,
          [ATTR.operation]: call.operation,
          [ATTR.fencingToken]: call.fencingToken,
        },
      },
      open.ctx,
    );
    if (call.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: codeOf(call.error) });
    span.end(performance.timeOrigin + call.endMs);
  };

  /** Spans still open (sagas in flight here); for tests and leak checks. */
  get openSpans(): number {
    return this.sagas.size + this.steps.size;
  }

  private startStep(sagaId: string, saga: string, step: string, phase: 'run' | 'compensate', attempt: number): void {
    const open = this.sagas.get(sagaId);
    if (!open) return;
    const span = this.tracer.startSpan(
      phase === 'run' ? `step ${step}` : `compensate ${step}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: { [ATTR.sagaId]: sagaId, [ATTR.saga]: saga, [ATTR.step]: step, [ATTR.phase]: phase, [ATTR.attempt]: attempt },
      },
      open.ctx,
    );
    const k = stepKey(sagaId, step, phase);
    this.steps.get(k)?.end();
    this.steps.set(k, span);
  }

  private endStep(sagaId: string, step: string, phase: 'run' | 'compensate', ok: boolean, error?: { code: string; message: string }): void {
    const k = stepKey(sagaId, step, phase);
    const span = this.steps.get(k);
    if (!span) return;
    this.steps.delete(k);
    if (!ok) span.setStatus({ code: SpanStatusCode.ERROR, message: error ? `${error.code}: ${error.message}` : 'failed' });
    span.end();
  }

  private abandon(sagaId: string, why: string): void {
    const open = this.sagas.get(sagaId);
    if (!open) return;
    this.sagas.delete(sagaId);
    open.span.setAttribute(ATTR.status, why);
    this.closeSteps(sagaId);
    open.span.end();
  }

  private closeSteps(sagaId: string): void {
    const prefix = `${sagaId}\u0000`;
    for (const [k, span] of this.steps) {
      if (!k.startsWith(prefix)) continue;
      this.steps.delete(k);
      span.end();
    }
  }
}

function stepKey(sagaId: string, step: string, phase: string): string {
  return `${sagaId}\u0000${step}\u0000${phase}`;
}

function codeOf(err: unknown): string {
  return errorCode(err) ?? 'error';
}
