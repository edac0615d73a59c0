// Engine hooks -> metrics. The engine knows no metrics library (packages/saga/src/events.ts); this file
// subscribes to its hooks and turns each event into counter, gauge and histogram updates.
// Labels only ever carry saga names, step names and fixed outcome words, never a saga id.
import type { SagaHooks } from '../saga/index.js';
import { ConsistencyWindow, type WindowSteps } from './consistency.js';
import type { ApexMetrics } from './registry.js';

/**
 * Outcomes of apex_saga_finished_total (the engine's end statuses); anything else is counted as
 * "other". Only completed, compensated, stuck and cancelled are final for the saga; the rest mean
 * this process stopped working on it (suspended, fenced, lease_lost, shutdown, error).
 */
export const SAGA_OUTCOMES = [
  'completed',
  'compensated',
  'stuck',
  'cancelled',
  'suspended',
  'fenced',
  'lease_lost',
  'shutdown',
  'error',
] as const;

/** Hooks of observers (metrics, traces, logs): the engine's own hook type. */
export type ObserverHooks = SagaHooks;

export interface SagaMetricOptions {
  /** Steps that open and close the pending window (default: the ingest saga's). */
  window?: WindowSteps;
  now?: () => number;
}

export function sagaMetricHooks(m: ApexMetrics, opts: SagaMetricOptions = {}): ObserverHooks {
  const window = new ConsistencyWindow(m, opts.window, opts.now);
  // sagaId -> saga name of sagas running here. Bounded by the engine's concurrency; an id leaves on
  // its end or when fenced, whichever comes first, so the gauge never goes negative.
  const running = new Map<string, string>();
  const leave = (sagaId: string): void => {
    const saga = running.get(sagaId);
    if (saga === undefined) return;
    running.delete(sagaId);
    m.sagasInFlight.dec({ saga });
  };
  return {
    onSagaStart(e) {
      m.sagasStarted.inc({ saga: e.saga, resumed: String(e.resumed) });
      if (!running.has(e.sagaId)) {
        running.set(e.sagaId, e.saga);
        m.sagasInFlight.inc({ saga: e.saga });
      }
    },
    onSagaEnd(e) {
      const outcome = outcomeOf(e.status);
      m.sagasFinished.inc({ saga: e.saga, outcome });
      m.sagaDuration.observe({ saga: e.saga, outcome }, e.durationMs / 1000);
      window.forget(e.sagaId);
      leave(e.sagaId);
    },
    onStepEnd(e) {
      m.stepDuration.observe({ saga: e.saga, step: e.step, phase: 'run', outcome: e.ok ? 'ok' : 'error' }, e.durationMs / 1000);
      if (e.ok) window.stepSucceeded(e.sagaId, e.saga, e.step);
    },
    onCompensationEnd(e) {
      m.stepDuration.observe({ saga: e.saga, step: e.step, phase: 'compensate', outcome: e.ok ? 'ok' : 'error' }, e.durationMs / 1000);
      m.compensations.inc({ saga: e.saga, step: e.step, outcome: e.ok ? 'succeeded' : 'failed' });
    },
    onRetry(e) {
      m.retries.inc({ saga: e.saga, step: e.step, phase: e.phase === 'forward' ? 'run' : 'compensate' });
    },
    onFenced(e) {
      m.leaseEvents.inc({ event: 'fenced' });
      window.forget(e.sagaId);
      leave(e.sagaId);
    },
    onClaim() {
      m.leaseEvents.inc({ event: 'claim' });
    },
    onTakeover() {
      m.leaseEvents.inc({ event: 'takeover' });
    },
    onLeaseLost(e) {
      m.leaseEvents.inc({ event: 'lost' });
      window.forget(e.sagaId);
    },
  };
}

function outcomeOf(status: string): string {
  return (SAGA_OUTCOMES as readonly string[]).includes(status) ? status : 'other';
}
