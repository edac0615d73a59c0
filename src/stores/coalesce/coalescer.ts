// Store group commit: the same operation from concurrent sagas goes out as one batched store call,
// while each caller keeps its own result, error, fence check and abort (docs/stores.md, "Store
// group commit"). Generic: one Coalescer per store operation, over any `send` that takes a batch
// and answers one outcome per member.
//
// Batch rules (why each):
// - Idle (nothing queued, nothing in flight): the call is sent on a microtask, before any I/O, so
//   a lone caller (c=1) never waits for a timer or an event-loop turn; calls made in the same
//   synchronous run (one group-commit resolution wakes many sagas) still share that batch.
// - Busy: calls queue and go out as one batch per event-loop turn (setImmediate, never a timer)
//   while fewer than `maxInFlight` batches are in flight; otherwise as soon as one finishes.
// - Caps: at most `maxItems` members and `maxBytes` (by `sizeOf`) per batch; an item larger than
//   maxBytes goes alone.
// - Two members with the same key (document) never share a batch: a batched store call takes each
//   document once, and a member's outcome must not depend on a sibling's write to its document.
// - A caller whose signal aborts while it is still queued leaves the queue (STORE_TRANSIENT,
//   "aborted before start", as an unstarted store call). Once its batch is sent, it waits for the
//   batch like any started call (src/stores/timeout.ts): its outcome may be applied.
// - A batch of one member goes through the adapter's per-document call when given (`sendOne`).
// - A batch rejected as a whole with a retryable error rejects every member with it (each saga's
//   own step policy retries). A permanent whole-batch error is split: every member is sent again
//   alone, so one poison document never fails another.

/** One member's outcome inside a batched store call. */
export type MemberOutcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

export interface CoalescerOptions<I, R> {
  /** The batched store call: one outcome per item, in order. Rejects when the batch failed as a whole. */
  send(items: readonly I[]): Promise<Array<MemberOutcome<R>>>;
  /**
   * The per-document call, for a batch of one (a lone caller at c=1, a member sent alone after a
   * split): the adapter's single form is cheaper than its batched form with one member (no arrays
   * expanded server-side), so low load pays exactly what it paid before the group commit.
   */
  sendOne?(item: I): Promise<R>;
  /** The document an item writes: two items with one key never share a batch. */
  keyOf(item: I): string;
  /** Approximate bytes of an item (the maxBytes cap); default 0. */
  sizeOf?(item: I): number;
  /** Whether a whole-batch failure is worth retrying as it is (default: err.retryable === true). */
  isRetryable?(err: unknown): boolean;
  /** The error for a caller aborted before its batch was sent. */
  abortedError(item: I): Error;
  maxItems?: number;
  maxBytes?: number;
  maxInFlight?: number;
  /** Called once per batch sent (metrics: batch sizes). */
  onBatch?(info: { size: number; bytes: number; split: boolean }): void;
}

interface Member<I, R> {
  item: I;
  key: string;
  bytes: number;
  resolve(value: R): void;
  reject(err: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export const DEFAULT_MAX_ITEMS = 64;
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
export const DEFAULT_MAX_IN_FLIGHT = 4;

function defaultRetryable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;
}

export class Coalescer<I, R> {
  private queue: Array<Member<I, R>> = [];
  private inFlight = 0;
  private scheduled = false;
  private readonly maxItems: number;
  private readonly maxBytes: number;
  private readonly maxInFlight: number;

  constructor(private readonly opts: CoalescerOptions<I, R>) {
    this.maxItems = Math.max(1, opts.maxItems ?? DEFAULT_MAX_ITEMS);
    this.maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
  }

  /** Queued members plus batches in flight (tests, drain). */
  get pending(): { queued: number; inFlight: number } {
    return { queued: this.queue.length, inFlight: this.inFlight };
  }

  submit(item: I, signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) return Promise.reject(this.opts.abortedError(item));
    return new Promise<R>((resolve, reject) => {
      const member: Member<I, R> = { item, key: this.opts.keyOf(item), bytes: this.opts.sizeOf?.(item) ?? 0, resolve, reject };
      if (signal) {
        member.signal = signal;
        member.onAbort = () => {
          const at = this.queue.indexOf(member);
          if (at < 0) return; // already sent: its outcome comes from the batch
          this.queue.splice(at, 1);
          reject(this.opts.abortedError(item));
        };
        signal.addEventListener('abort', member.onAbort, { once: true });
      }
      const idle = this.queue.length === 0 && this.inFlight === 0;
      this.queue.push(member);
      if (this.scheduled) return;
      this.scheduled = true;
      if (idle) queueMicrotask(this.run);
      else if (this.inFlight < this.maxInFlight) setImmediate(this.run);
      else this.scheduled = false; // a finishing batch starts the next one
    });
  }

  private readonly run = (): void => {
    this.scheduled = false;
    while (this.queue.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.take();
      this.inFlight++;
      void this.sendBatch(batch).finally(this.finished);
    }
  };

  /** The next batch from the queue's head: one member per key, within the caps, in arrival order. */
  private take(): Array<Member<I, R>> {
    const batch: Array<Member<I, R>> = [];
    const keys = new Set<string>();
    let bytes = 0;
    const rest: Array<Member<I, R>> = [];
    for (const m of this.queue) {
      const fits = batch.length < this.maxItems && !keys.has(m.key) && (batch.length === 0 || bytes + m.bytes <= this.maxBytes);
      if (fits) {
        batch.push(m);
        keys.add(m.key);
        bytes += m.bytes;
      } else {
        rest.push(m);
      }
    }
    this.queue = rest;
    for (const m of batch) {
      if (m.signal && m.onAbort) m.signal.removeEventListener('abort', m.onAbort);
    }
    return batch;
  }

  /** A slot is free: the calls that queued meanwhile have waited long enough, so they go now. */
  private readonly finished = (): void => {
    this.inFlight--;
    if (this.queue.length > 0) this.run();
  };

  private async sendBatch(batch: Array<Member<I, R>>, split = false): Promise<void> {
    this.opts.onBatch?.({ size: batch.length, bytes: batch.reduce((n, m) => n + m.bytes, 0), split });
    const [only] = batch;
    if (only && batch.length === 1 && this.opts.sendOne) {
      try {
        only.resolve(await this.opts.sendOne(only.item));
      } catch (err) {
        only.reject(err);
      }
      return;
    }
    let outcomes: Array<MemberOutcome<R>>;
    try {
      outcomes = await this.opts.send(batch.map((m) => m.item));
    } catch (err) {
      const retryable = (this.opts.isRetryable ?? defaultRetryable)(err);
      if (retryable || batch.length === 1) {
        for (const m of batch) m.reject(err);
        return;
      }
      // Permanent as a whole: one member may be the cause. Each goes again alone, so only the
      // poison one fails. (Every batched call is a transaction or idempotent: nothing half-applied
      // needs undoing, and a repeat of an applied member is a no-op.)
      await Promise.all(batch.map((m) => this.sendBatch([m], true)));
      return;
    }
    batch.forEach((m, i) => {
      const out = outcomes[i];
      if (!out) m.reject(new Error(`coalescer: the batched call answered ${outcomes.length} outcomes for ${batch.length} members`));
      else if (out.ok) m.resolve(out.value);
      else m.reject(out.error);
    });
  }
}
