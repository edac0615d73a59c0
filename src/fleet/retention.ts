// Retention of the saga log: ended sagas (completed or compensated) older than APEX_SAGA_RETENTION
// are deleted with their records, in small batches from the log's index on ended sagas, by every
// long-lived process that opens the log (workers and `serve`, periodically) and by `ingest` on a
// SQLite log (one pass per run). Without it the log grows without bound, and ended sagas keep
// their inputs (the erasure work relies on them going away). Pending, running, compensating and
// stuck sagas are never touched: prune deletes only completed and compensated ones.
//
// Default 7 days: long enough to look into last week's failures (and a weekend), short enough
// that the log of a busy fleet stays small; `0` or `off` turns it off (prune by hand with
// `apex-memory sagas prune`).
import type { SagaLogQueries } from '../saga/index.js';
import { ConfigError } from '../config/numeric.js';

export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;
const MAX_RETENTION_MS = 36_500 * 24 * 3_600_000;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 24 * 3_600_000 };

/** APEX_SAGA_RETENTION: `7d`, `12h`, `90m`, `3600s`; `0`/`off` disables. undefined = disabled. */
export function retentionFromEnv(env: Record<string, string | undefined>): number | undefined {
  const raw = env.APEX_SAGA_RETENTION?.trim();
  if (raw === undefined || raw === '') return DEFAULT_RETENTION_MS;
  if (raw === '0' || raw.toLowerCase() === 'off') return undefined;
  const m = /^(\d+)([smhd])$/.exec(raw);
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1_000) : NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_RETENTION_MS) {
    throw new ConfigError(
      'APEX_SAGA_RETENTION',
      `APEX_SAGA_RETENTION must be a duration like 7d, 12h or 90m (at most 36500d), or 0/off, got ${JSON.stringify(raw.slice(0, 40))}`,
    );
  }
  return ms;
}

export interface RetentionOptions {
  log: Pick<SagaLogQueries, 'prune'>;
  /** Ended sagas older than this are deleted; undefined: retention is off (passes do nothing). */
  retentionMs: number | undefined;
  /** Sagas per delete (one short transaction each; default 500). */
  batch?: number;
  /** Most batches per pass, so one pass never runs for long (default 200: 100,000 sagas). */
  maxBatches?: number;
  /** One line per failed pass; never carries a secret. */
  warn?: (line: string) => void;
  now?: () => number;
}

export interface PassResult {
  deleted: number;
  batches: number;
}

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<PassResult> | undefined;
  private stopped = false;
  private readonly batch: number;
  private readonly maxBatches: number;
  private readonly now: () => number;

  constructor(private readonly opts: RetentionOptions) {
    this.batch = opts.batch ?? 500;
    this.maxBatches = opts.maxBatches ?? 200;
    this.now = opts.now ?? Date.now;
  }

  get enabled(): boolean {
    return this.opts.retentionMs !== undefined;
  }

  /** One pass: batches until none is full (or maxBatches). Concurrent calls share one pass. */
  pass(): Promise<PassResult> {
    this.running ??= this.runPass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** A pass soon after start (firstDelayMs), then every intervalMs; timers never keep the process alive. */
  start(intervalMs = 10 * 60_000, firstDelayMs = 5_000): void {
    if (!this.enabled || this.timer || this.stopped) return;
    const tick = (): void => {
      this.pass()
        .catch((err: unknown) =>
          this.opts.warn?.(`retention: prune failed (${(err as Error).message}); next attempt in ${Math.round(intervalMs / 1000)} s`),
        )
        .finally(() => {
          if (!this.stopped) {
            this.timer = setTimeout(tick, intervalMs);
            this.timer.unref();
          }
        });
    };
    this.timer = setTimeout(tick, firstDelayMs);
    this.timer.unref();
  }

  /** Stops the timer and waits for a pass in progress (it ends after its current batch). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private async runPass(): Promise<PassResult> {
    const retention = this.opts.retentionMs;
    if (retention === undefined) return { deleted: 0, batches: 0 };
    const endedBefore = this.now() - retention;
    let deleted = 0;
    let batches = 0;
    while (batches < this.maxBatches) {
      const n = await this.opts.log.prune(endedBefore, this.batch);
      batches++;
      deleted += n;
      if (n < this.batch || this.stopped) break;
      // Let the process's own work (claims, commits) through between batches.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { deleted, batches };
  }
}
