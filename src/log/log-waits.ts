// How many calls of this process are waiting on the saga log right now (issue 22's ride-out:
// begin and append retry a log that is down, for the outage budget). A fleet worker whose slots
// are all held by sagas waiting on the log claims nothing, so its claim errors alone would never
// say that the log is down; this count does (WorkerLoop warns on the first wait and says when the
// last one is over). Fed by rideOutLog's onWait: one start per waiting call, one end.
export type LogWaitListener = (e: { waiting: number; error?: unknown }) => void;

export class LogWaits {
  private n = 0;
  private readonly listeners = new Set<LogWaitListener>();

  get waiting(): number {
    return this.n;
  }

  /** rideOutLog's onWait: an error when a call starts waiting, undefined when it stops. */
  readonly onWait = (err: unknown): void => {
    if (err !== undefined) this.n++;
    else this.n = Math.max(0, this.n - 1);
    const e = err !== undefined ? { waiting: this.n, error: err } : { waiting: this.n };
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener never breaks a log call
      }
    }
  };

  /** Returns the unsubscribe function. */
  listen(l: LogWaitListener): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }
}
