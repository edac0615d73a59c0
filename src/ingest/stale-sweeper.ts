// Schedules sweepDocument (sweep.ts) for the documents of sagas that changed owner while a write
// may have been in flight: sagas this process lost (fenced, lease lost) and sagas it took over from
// another owner (dead or expired). A write sent by the old owner may land after the new owner's
// work, so once the document is free again (and a short delay has let such a request arrive), the
// sweep removes every derived version that is not the committed one. Runs in the background,
// bounded in time; `drain()` waits for it on shutdown.
import type { SagaHooks, SagaLog } from '../saga/index.js';
import type { StoreSet, VectorStore } from '../stores/types.js';
import { sweepDocument } from './sweep.js';

export interface SweeperOptions {
  /** Pause between attempts while the document is held (default 500 ms). */
  retryMs?: number;
  /** Give up after this long (default 10 minutes); `verify` would then report what is left. */
  giveUpMs?: number;
  /** Wait before the first attempt, for the old owner's in-flight requests (default 1 s). */
  initialDelayMs?: number;
  onSwept?: (docId: string, removed: number) => void;
  /** The vector stores to sweep (every target of the active index record); default stores.qdrant. */
  vectors?: () => Promise<VectorStore[]>;
}

function docIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const i = input as { doc?: { id?: unknown }; docId?: unknown };
  if (typeof i.doc?.id === 'string') return i.doc.id;
  return typeof i.docId === 'string' ? i.docId : undefined;
}

export class StaleWriteSweeper {
  private readonly running = new Set<Promise<void>>();
  private stopped = false;
  readonly hooks: SagaHooks;

  constructor(
    private readonly stores: StoreSet,
    private readonly log: SagaLog,
    private readonly opts: SweeperOptions = {},
  ) {
    this.hooks = {
      // This process lost the saga: what it sent may still land after the new owner's work.
      onFenced: (e) => this.sagaLost(e.sagaId),
      onLeaseLost: (e) => this.sagaLost(e.sagaId),
      // This process took the saga from another owner: what that owner had in flight (a request
      // a dead process sent just before it died) may land after ours.
      onTakeover: (e) => this.sagaLost(e.sagaId),
    };
  }

  /** How many sweeps are still waiting or running. */
  get pending(): number {
    return this.running.size;
  }

  sagaLost(sagaId: string): void {
    if (this.stopped) return;
    const job = this.sweepFor(sagaId)
      .catch(() => undefined)
      .finally(() => this.running.delete(job));
    this.running.add(job);
  }

  private async sweepFor(sagaId: string): Promise<void> {
    const saga = await this.log.load(sagaId);
    const docId = docIdOf(saga?.input);
    if (docId === undefined) return;
    const retryMs = this.opts.retryMs ?? 500;
    const until = Date.now() + (this.opts.giveUpMs ?? 600_000);
    await this.pause(this.opts.initialDelayMs ?? 1_000);
    while (!this.stopped && Date.now() < until) {
      try {
        const r = await sweepDocument(this.stores, docId, await this.opts.vectors?.());
        if (r.swept) {
          this.opts.onSwept?.(docId, r.removed);
          return;
        }
      } catch {
        // a store is down: try again later
      }
      await this.pause(retryMs);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((res) => setTimeout(res, ms).unref());
  }

  /** Waits up to `timeoutMs` for the sweeps in progress, then stops the rest. */
  async drain(timeoutMs = 3_000): Promise<void> {
    const all = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((res) => (timer = setTimeout(res, timeoutMs)))]);
    if (timer) clearTimeout(timer);
    this.stopped = true;
  }
}
