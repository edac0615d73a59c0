// Schedules sweepDocument (sweep.ts) for the documents of sagas this process lost to another owner
// (fenced: its lease expired while it still worked). Anything this process sent to Qdrant for such
// a saga may land after the new owner's work, so once the saga's document is free again the
// sweep removes every derived version that is not the committed one. Runs in the background,
// bounded in time; `drain()` waits for it on shutdown.
import type { SagaHooks, SagaLog } from '../saga/index.js';
import type { StoreSet } from '../stores/types.js';
import { sweepDocument } from './sweep.js';

export interface SweeperOptions {
  /** Pause between attempts while the document is held (default 500 ms). */
  retryMs?: number;
  /** Give up after this long (default 10 minutes); `verify` would then report what is left. */
  giveUpMs?: number;
  onSwept?: (docId: string, removed: number) => void;
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

  constructor(private readonly stores: StoreSet, private readonly log: SagaLog, private readonly opts: SweeperOptions = {}) {
    this.hooks = {
      onFenced: (e) => this.sagaLost(e.sagaId),
    };
  }

  /** How many sweeps are still waiting or running. */
  get pending(): number {
    return this.running.size;
  }

  sagaLost(sagaId: string): void {
    if (this.stopped) return;
    const job = this.sweepFor(sagaId).catch(() => undefined).finally(() => this.running.delete(job));
    this.running.add(job);
  }

  private async sweepFor(sagaId: string): Promise<void> {
    const saga = await this.log.load(sagaId);
    const docId = docIdOf(saga?.input);
    if (docId === undefined) return;
    const retryMs = this.opts.retryMs ?? 500;
    const until = Date.now() + (this.opts.giveUpMs ?? 600_000);
    while (!this.stopped && Date.now() < until) {
      try {
        const r = await sweepDocument(this.stores, docId);
        if (r.swept) {
          this.opts.onSwept?.(docId, r.removed);
          return;
        }
      } catch {
        // a store is down: try again later
      }
      await new Promise((res) => setTimeout(res, retryMs));
    }
  }

  /** Waits up to `timeoutMs` for the sweeps in progress, then stops the rest. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const all = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((res) => (timer = setTimeout(res, timeoutMs)))]);
    if (timer) clearTimeout(timer);
    this.stopped = true;
  }
}
