// Group commit: every log call made in the same event-loop turn joins one batch, and the batch is
// committed as ONE durable transaction on setImmediate. Each call's promise settles only after
// that commit (or individually, when its own checks rejected it). One fsync then pays for many
// sagas, which is what makes a durable log fast.

/**
 * Collects items and hands them to `flush` in batches. At most `maxInFlight` batches run at once
 * (SQLite: 1, synchronous; PostgreSQL: a few, over pool connections); items arriving meanwhile
 * wait for the next batch. `flush` must settle every item itself and never throw.
 */
export class GroupCommitQueue<T> {
  private queue: T[] = [];
  private scheduled = false;
  private inFlight = 0;
  private drained: Array<() => void> = [];

  constructor(
    private readonly flush: (batch: T[]) => void | Promise<void>,
    private readonly maxInFlight = 1,
    private readonly maxBatch = Number.POSITIVE_INFINITY,
  ) {}

  push(item: T): void {
    this.queue.push(item);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    }
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  /** Resolves once everything queued so far has been flushed. */
  drain(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private readonly run = (): void => {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      let batch: T[];
      if (this.queue.length <= this.maxBatch) {
        batch = this.queue;
        this.queue = [];
      } else {
        batch = this.queue.splice(0, this.maxBatch);
      }
      this.inFlight++;
      const result = this.flush(batch);
      if (result instanceof Promise) {
        void result.finally(this.finished);
      } else {
        this.finished();
      }
    }
  };

  private readonly finished = (): void => {
    this.inFlight--;
    if (this.queue.length > 0 && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.run);
    } else if (this.idle) {
      const waiters = this.drained;
      this.drained = [];
      for (const w of waiters) w();
    }
  };
}
