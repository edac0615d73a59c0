// The worker loop of a fleet: keeps up to `concurrency` sagas of the shared saga log running in
// this process. Work arrives two ways: pending sagas (submitted by `ingest --submit` or the API)
// and sagas whose owner's lease expired (a dead or stalled worker); `engine.recover` claims both.
//
// Why it polls: the log is the queue and claims are `FOR UPDATE SKIP LOCKED`, so several workers
// can ask at once without blocking one another; a short idle poll (default 200 ms) is cheap and
// needs no notification channel that could itself fail. It asks again at once when it claimed a
// full batch (more may be waiting), and when its sagas finishing have freed `claimBatch` slots:
// one claim (and one load) per round trip for several sagas, rather than one per ended saga
// (issue 19: claiming ~1 at a time made the claim round trip the fleet's bottleneck).
//
// A log error (PostgreSQL down) never ends the loop: one warning line, then a capped backoff;
// sagas already running keep going as far as the log lets them, and whatever they could not
// finish is claimed again once the log is back (their leases lapse). Running sagas ride the
// outage out (their appends are retried for the outage budget) and keep their slots, so a full
// worker may not claim at all during an outage: `logWaits` (the app's count of calls waiting on
// the log) makes it warn then too, and say when the log answers again.
import type { SagaEngine, SagaLogBackend } from '../saga/index.js';
import { describeFailure } from './describe-error.js';
import { WorkerTally, type WorkerCounts } from './tally.js';

export interface WorkerLoopOptions {
  engine: SagaEngine<SagaLogBackend>;
  /** Most sagas running at once in this process (default 16). */
  concurrency?: number;
  /** Idle poll period (default 200 ms). */
  pollMs?: number;
  /**
   * Slots that must be free before a finished saga triggers a claim (default concurrency / 4,
   * at least 1); at the idle poll any free slot is filled.
   */
  claimBatch?: number;
  /** Longest wait between attempts while the log fails (default 5 s). */
  maxBackoffMs?: number;
  /** One line per problem; never carries a secret. Default: stderr. */
  warn?: (line: string) => void;
  /** Calls of this process waiting on the saga log (App.logWaits): warns when running sagas wait. */
  logWaits?: { listen(l: (e: { waiting: number; error?: unknown }) => void): () => void };
}

export class WorkerLoop {
  readonly concurrency: number;
  readonly pollMs: number;
  readonly claimBatch: number;
  private readonly maxBackoffMs: number;
  private readonly engine: SagaEngine<SagaLogBackend>;
  private readonly warn: (line: string) => void;
  private readonly tally = new WorkerTally();
  private stopping = false;
  private running: Promise<void> | undefined;
  private waiting: { resume: () => void; onSagaEnd: boolean } | undefined;
  private failures = 0;
  /** A warning said the log is unreachable, and no line has said it is back yet. */
  private logDown = false;
  private readonly unlisten: () => void;

  constructor(opts: WorkerLoopOptions) {
    this.engine = opts.engine;
    this.concurrency = positive(opts.concurrency ?? 16, 'concurrency');
    this.pollMs = positive(opts.pollMs ?? 200, 'pollMs');
    this.claimBatch = Math.min(this.concurrency, positive(opts.claimBatch ?? Math.max(1, Math.floor(this.concurrency / 4)), 'claimBatch'));
    this.maxBackoffMs = Math.max(this.pollMs, opts.maxBackoffMs ?? 5_000);
    this.warn = opts.warn ?? ((line) => void process.stderr.write(`${line}\n`));
    this.engine.addHooks(this.tally.hooks(() => this.wake('saga-end')));
    this.unlisten = opts.logWaits?.listen((e) => this.onLogWait(e)) ?? (() => undefined);
  }

  /** Starts claiming; the promise resolves when the loop has stopped (after `stop`). */
  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  counts(): WorkerCounts {
    return { ...this.tally.counts, running: this.engine.activeCount, logFailures: this.failures };
  }

  /**
   * Graceful stop: claims nothing more, waits up to `graceMs` for the sagas running here, then
   * stops the rest where they are and releases their leases so another worker resumes them at
   * once (engine.close). The caller closes the stores and the log afterwards.
   */
  async stop(opts: { graceMs?: number } = {}): Promise<void> {
    this.stopping = true;
    this.wake('stop');
    await this.running;
    await this.engine.close({ graceMs: opts.graceMs ?? 10_000 });
    this.unlisten();
  }

  private onLogWait(e: { waiting: number; error?: unknown }): void {
    if (e.error !== undefined && !this.logDown) {
      this.logDown = true;
      const running = this.engine.activeCount;
      this.warn(
        `worker: saga log unreachable (${describeFailure(e.error)}); ${running} running saga(s) wait for it, up to the outage budget`,
      );
    } else if (e.waiting === 0 && this.logDown && this.failures === 0) {
      this.logDown = false;
      this.warn('worker: saga log reachable again (the running sagas wrote to it)');
    }
  }

  private async loop(): Promise<void> {
    let woken = false; // the last sleep ended because a saga finished (not at the poll period)
    while (!this.stopping) {
      const free = this.concurrency - this.engine.activeCount;
      if (free <= 0 || (woken && free < this.claimBatch)) {
        woken = await this.sleep(this.pollMs); // a finishing saga wakes us earlier
        continue;
      }
      woken = false;
      let started: number;
      try {
        started = await this.engine.recover({ limit: free, includePending: true });
      } catch (err) {
        if (this.stopping) break;
        this.failures++;
        this.logDown = true;
        const delay = Math.min(this.maxBackoffMs, this.pollMs * 2 ** Math.min(this.failures, 16));
        this.warn(`worker: cannot claim from the saga log (${describeFailure(err)}); attempt ${this.failures}, retrying in ${delay} ms`);
        await this.sleep(delay, { wakeOnSagaEnd: false });
        continue;
      }
      if (this.failures > 0) {
        this.warn(`worker: saga log reachable again after ${this.failures} failed attempt(s)`);
        this.logDown = false;
      }
      this.failures = 0;
      this.tally.claimed(started);
      if (started < free) woken = await this.sleep(this.pollMs);
    }
  }

  private wake(why: 'saga-end' | 'stop'): void {
    const w = this.waiting;
    if (!w || (why === 'saga-end' && !w.onSagaEnd)) return;
    this.waiting = undefined;
    w.resume();
  }

  /**
   * Waits `ms`, or less when stopping or (unless told otherwise) when a saga ends. Resolves true
   * when woken early, false when the period ran out.
   */
  private sleep(ms: number, opts: { wakeOnSagaEnd?: boolean } = {}): Promise<boolean> {
    if (this.stopping) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(false);
      }, ms);
      this.waiting = {
        onSagaEnd: opts.wakeOnSagaEnd !== false,
        resume: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
    });
  }
}

function positive(n: number, what: string): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`${what} must be a positive integer (got ${n})`);
  return n;
}
