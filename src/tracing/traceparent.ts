// W3C trace context (traceparent) in the saga log: a saga's start options carry `meta.traceparent`,
// stored with the saga, so the process that resumes it (after a crash, a takeover) continues the
// same trace. Parsed and formatted here rather than through a propagator, because with the
// OpenTelemetry API alone (no SDK) no propagator is registered.
import { ROOT_CONTEXT, TraceFlags, context, trace, type Context, type SpanContext } from '@opentelemetry/api';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  const m = value === undefined ? null : TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, traceId, spanId, flags] = m as unknown as [string, string, string, string];
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, traceFlags: parseInt(flags, 16), isRemote: true };
}

export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** The parent context a saga span starts under: its stored traceparent, else none (a new trace). */
export function contextFromMeta(meta: Record<string, string> | undefined): Context {
  const sc = parseTraceparent(meta?.traceparent);
  return sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
}

/**
 * Meta to store with a new saga: the caller's active span as the parent, or, when there is none,
 * a fresh trace id with a random parent span id, so that every process working on the saga later
 * joins one trace (55 bytes per saga; made even without an SDK, so a resuming process that has
 * one still gets a trace id shared with the rest of the saga's life).
 */
export function traceMeta(active: Context = context.active()): Record<string, string> {
  const current = trace.getSpanContext(active);
  if (current && trace.isSpanContextValid(current)) return { traceparent: formatTraceparent(current) };
  return { traceparent: formatTraceparent({ traceId: randomHex(16), spanId: randomHex(8), traceFlags: TraceFlags.SAMPLED }) };
}

function randomHex(bytes: number): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
