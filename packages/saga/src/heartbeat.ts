// Keeps the leases of the sagas this engine runs alive. When the log says a lease moved on
// (another owner claimed the saga after this one stalled), the saga's run is aborted with
// SAGA_FENCED. When renewals fail (the log is unreachable or slow) until the lease is about to run
// out, the run is aborted with SAGA_LEASE_LOST: this owner stops its steps and writes nothing more,
// before another owner may claim the saga.
import type { Clock } from './clock.js';
import { SagaError, toErrorInfo } from './errors.js';
import type { HookBus } from './events.js';
import type { SagaLog } from './log.js';
import type { SagaRun } from './run.js';

export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private guard: ReturnType<typeof setInterval> | undefined;
  /** Renewals in flight; two may overlap so that one slow round trip does not lose a lease. */
  private beating = 0;
  private stopped = false;
  private lastError: unknown;

  constructor(
    private readonly log: SagaLog,
    private readonly owner: string,
    private readonly leaseMs: number,
    private readonly periodMs: number,
    private readonly runs: () => SagaRun[],
    private readonly clock: Clock,
    private readonly hooks: HookBus,
  ) {}

  /** A run is aborted this long before its lease would lapse (renewals failed meanwhile). */
  private get marginMs(): number {
    return Math.max(1, Math.floor(this.leaseMs / 10));
  }

  /** Runs only while there is something to renew, so an idle engine keeps no timer. */
  changed(active: number): void {
    if (this.stopped || this.periodMs <= 0) return;
    if (active > 0 && !this.timer) {
      this.timer = setInterval(() => void this.beat(), this.periodMs);
      this.timer.unref();
      this.guard = setInterval(() => this.check(), Math.max(1, Math.min(this.periodMs, this.marginMs)));
      this.guard.unref();
    } else if (active === 0 && this.timer) {
      this.clear();
    }
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.guard) clearInterval(this.guard);
    this.timer = undefined;
    this.guard = undefined;
  }

  /** Aborts the runs whose lease may be gone by now: no renewal succeeded in time. */
  private check(): void {
    const now = this.clock.now();
    for (const run of this.runs()) {
      if (run.scope.cancelled || now < run.leaseValidUntil - this.marginMs) continue;
      const cause = this.lastError === undefined ? '' : `: ${toErrorInfo(this.lastError).message}`;
      const err = new SagaError('SAGA_LEASE_LOST', `saga ${run.sagaId}: lease could not be renewed in time${cause}`, {
        cause: this.lastError,
      });
      run.scope.cancel(err);
      if (!this.hooks.empty) {
        const e = { ...run.eventBase, fencingToken: run.lease.fencingToken };
        this.hooks.emit('onLeaseLost', this.lastError === undefined ? e : { ...e, error: toErrorInfo(this.lastError) });
      }
    }
  }

  private async beat(): Promise<void> {
    if (this.beating >= 2) return; // a slow log must not pile up renewals
    this.beating++;
    try {
      const runs = this.runs().filter((r) => !r.scope.cancelled);
      if (runs.length === 0) return;
      const sent = this.clock.now();
      const lost = await this.log.renew(
        this.owner,
        runs.map((r) => ({ sagaId: r.sagaId, fencingToken: r.lease.fencingToken })),
        this.leaseMs,
      );
      this.lastError = undefined;
      const gone = new Set(lost);
      for (const run of runs) {
        if (!gone.has(run.sagaId)) {
          run.leaseValidUntil = Math.max(run.leaseValidUntil, sent + this.leaseMs);
        } else if (!run.scope.cancelled) {
          run.scope.cancel(new SagaError('SAGA_FENCED', `saga ${run.sagaId}: lease taken over by another owner`));
        }
      }
    } catch (err) {
      // Not fatal yet: `check` aborts the runs if no renewal succeeds before their lease runs out.
      this.lastError = err;
    } finally {
      this.beating--;
    }
  }
}
