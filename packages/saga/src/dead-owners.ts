// Owners on this host whose process is gone, as the log reports them holding sagas: recover()
// hands them to claim() so their sagas are taken at once instead of after their lease.
import type { Clock } from './clock.js';
import type { SagaLog } from './log.js';
import { isDeadLocalOwner } from './owner.js';

/**
 * Scans the log's owners at most once a second. Between scans the last answer is reused: a dead
 * process stays dead, and returning nothing there made every claim but one a second wait for
 * lease expiry (10,000 sagas of a killed process took the full 30 s lease to recover instead of
 * ~2 s; bench/recovery.ts).
 */
export class DeadOwnerScan {
  private lastScan = Number.NEGATIVE_INFINITY;
  private last: string[] = [];

  constructor(
    private readonly log: SagaLog,
    private readonly self: string,
    private readonly clock: Clock,
  ) {}

  async owners(): Promise<string[]> {
    const now = this.clock.now();
    if (now - this.lastScan < 1_000) return this.last;
    this.lastScan = now;
    const owners = await this.log.owners();
    this.last = owners.map((o) => o.owner).filter((o) => o !== this.self && isDeadLocalOwner(o));
    return this.last;
  }
}
