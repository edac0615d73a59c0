// Keeps the leases of the sagas this engine runs alive. When the log says a lease moved on
// (another owner claimed the saga after this one stalled), the saga's run is aborted with
// SAGA_FENCED: this owner stops at once and writes nothing more.
import { SagaError } from './errors.js';
import type { SagaLog } from './log.js';
import type { SagaRun } from './run.js';

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private beating = false;
  private stopped = false;

  constructor(
    private readonly log: SagaLog,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly periodMs: number,
    private readonly runs: () => SagaRun[],
  ) {}

  /** Runs only while there is something to renew, so an idle engine keeps no timer. */
  changed(active: number): void {
    if (this.stopped || this.periodMs <= 0) return;
    if (active > 0 && !this.timer) {
      this.timer = setInterval(() => void this.beat(), this.periodMs);
      this.timer.unref();
    } else if (active === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async beat(): Promise<void> {
    if (this.beating) return; // a slow log must not pile up renewals
    this.beating = true;
    try {
      const runs = this.runs();
      if (runs.length === 0) return;
      const lost = await this.log.renew(
        this.owner,
        runs.map((r) => ({ sagaId: r.sagaId, fencingToken: r.lease.fencingToken })),
        this.leaseMs,
      );
      if (lost.length === 0) return;
      const gone = new Set(lost);
      for (const run of runs) {
        if (gone.has(run.sagaId) && !run.scope.cancelled) {
          run.scope.cancel(new SagaError('SAGA_FENCED', `saga ${run.sagaId}: lease taken over by another owner`));
        }
      }
    } catch {
      // The log is unreachable: keep working; if the lease lapses meanwhile, the next append is
      // fenced and this owner stops then.
    } finally {
      this.beating = false;
    }
  }
}
