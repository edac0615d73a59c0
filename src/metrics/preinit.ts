// Zero series for everything this process can report, created when the app is attached: a
// counter's first scrape is 0 rather than its first increase, so rate() counts from the process's
// start, every outcome's rate shares the same extrapolation (ratios such as the compensation rate
// stay exact), and a quiet system's Grafana panels show 0 rather than "No data". Histograms get
// zero buckets for the same reason. Not drift: apex_drift_violations stays absent until a verify
// ran (a 0 would claim a check that never happened; see drift.ts).
import { INGEST_WINDOW } from './consistency.js';
import type { ApexMetrics } from './registry.js';

export interface KnownStep {
  saga: string;
  step: string;
  compensatable: boolean;
}

const FINAL_OUTCOMES = ['completed', 'compensated', 'stuck', 'cancelled'];
const STORES = ['postgres', 'neo4j', 'qdrant', 'redis'];

export function preinitialize(m: ApexMetrics, names: readonly string[], steps: readonly KnownStep[]): void {
  for (const saga of names) {
    m.sagasStarted.inc({ saga, resumed: 'false' }, 0);
    m.sagasStarted.inc({ saga, resumed: 'true' }, 0);
    m.sagasInFlight.inc({ saga }, 0);
    for (const outcome of FINAL_OUTCOMES) {
      m.sagasFinished.inc({ saga, outcome }, 0);
      m.sagaDuration.zero({ saga, outcome });
    }
  }
  // Per step: the retries and compensations panels (and their alerts) read these.
  for (const { saga, step, compensatable } of steps) {
    m.retries.inc({ saga, step, phase: 'run' }, 0);
    for (const outcome of ['ok', 'error']) m.stepDuration.zero({ saga, step, phase: 'run', outcome });
    if (!compensatable) continue;
    m.retries.inc({ saga, step, phase: 'compensate' }, 0);
    for (const outcome of ['succeeded', 'failed']) m.compensations.inc({ saga, step, outcome }, 0);
    for (const outcome of ['ok', 'error']) m.stepDuration.zero({ saga, step, phase: 'compensate', outcome });
  }
  // The consistency window exists for sagas that open and close a pending version.
  for (const saga of names) {
    const own = new Set(steps.filter((s) => s.saga === saga).map((s) => s.step));
    if (own.has(INGEST_WINDOW.opens) && own.has(INGEST_WINDOW.closes)) m.consistencyWindow.zero({ saga });
  }
  // Store latency and errors: \`health\` is the one operation every store has (readiness, status).
  for (const store of STORES) {
    m.fencedWrites.inc({ store }, 0);
    for (const outcome of ['ok', 'error']) m.storeDuration.zero({ store, operation: 'health', outcome });
  }
  for (const event of ['claim', 'takeover', 'lost', 'fenced']) m.leaseEvents.inc({ event }, 0);
}
