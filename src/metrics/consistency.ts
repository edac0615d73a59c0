// The consistency window: how long a document version stays visible as `pending` before its
// commit. Measured per saga from the ingest saga's own step events: the end of the step that
// writes the pending row to the end of the step that commits it (DESIGN "The ingest saga").
// Open windows sit in a map keyed by saga id, bounded so that sagas that never reach the commit
// (compensated, fenced, crashed) cannot grow it without end.
import type { ApexMetrics } from './registry.js';

export interface WindowSteps {
  opens: string;
  closes: string;
}

export const INGEST_WINDOW: WindowSteps = { opens: 'postgres_pending', closes: 'postgres_commit' };
const MAX_OPEN = 10_000;

export class ConsistencyWindow {
  private readonly open = new Map<string, number>();

  constructor(
    private readonly m: ApexMetrics,
    private readonly steps: WindowSteps = INGEST_WINDOW,
    private readonly now: () => number = () => performance.now(),
  ) {}

  stepSucceeded(sagaId: string, saga: string, step: string): void {
    if (step === this.steps.opens) {
      if (this.open.size >= MAX_OPEN) {
        const oldest = this.open.keys().next().value;
        if (oldest !== undefined) this.open.delete(oldest); // Map keeps insertion order
      }
      this.open.set(sagaId, this.now());
    } else if (step === this.steps.closes) {
      const since = this.open.get(sagaId);
      if (since === undefined) return; // opened in another process (a resumed saga): not measured here
      this.open.delete(sagaId);
      this.m.consistencyWindow.observe({ saga }, Math.max(0, this.now() - since) / 1000);
    }
  }

  forget(sagaId: string): void {
    this.open.delete(sagaId);
  }

  get size(): number {
    return this.open.size;
  }
}
