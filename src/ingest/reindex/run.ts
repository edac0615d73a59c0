// The reindex loop (docs/reindex.md): compares the target being built with PostgreSQL and runs
// one reindex saga per document that is not current there, then compares again, until a pass
// finds nothing to do (a fixed point). So a document that a live saga wrote without the dual
// write (it read the record before the migration began) is caught by a later pass, and a re-run
// after SIGKILL continues where the killed run stopped: the comparison is the only progress
// record it needs.
import type { SagaDefinition, SagaEngine } from '../../saga/index.js';
import { newSagaId } from '../../saga/index.js';
import type { StoreSet } from '../../stores/types.js';
import { clearHolder } from '../holder.js';
import { compareTarget } from './compare.js';
import type { ReindexInput } from '../sagas/reindex-saga.js';
import type { TargetBinding } from './targets.js';

export interface ReindexProgress {
  pass: number;
  /** Documents reindexed so far (all passes). */
  done: number;
  /** Documents this pass still has to do. */
  remaining: number;
  failed: number;
  docsPerSec: number;
  /** Seconds left at the current rate; null before the first document. */
  etaSec: number | null;
}

export interface ReindexSummary {
  passes: number;
  reindexed: number;
  failed: Array<{ docId: string; status: string; reason?: string }>;
  committed: number;
  /** Documents still not current when the run stopped (0: a fixed point was reached). */
  unsettled: number;
  seconds: number;
}

export interface ReindexRunOptions {
  /** Documents per second at most (paid embedding APIs); undefined: as fast as it goes. */
  rate?: number;
  /** Sagas at a time (default 4). */
  concurrency?: number;
  /** Passes before giving up when documents keep failing (default 5). */
  maxPasses?: number;
  onProgress?: (p: ReindexProgress) => void;
  signal?: AbortSignal;
  /** The active target's chunking: when `next`'s differs (re-chunking), the graph is compared too. */
  activeChunking?: number;
  /** Saga ids of the reindex sagas (default: random ones); the simulation's are deterministic. */
  sagaIds?: () => string;
}

export async function runReindex(
  deps: { stores: StoreSet; engine: SagaEngine; def: SagaDefinition<ReindexInput, Record<string, unknown>> },
  next: TargetBinding,
  opts: ReindexRunOptions = {},
): Promise<ReindexSummary> {
  const t0 = performance.now();
  const { stores, engine, def } = deps;
  // Sagas a killed run left behind on this host are taken over first (their owner is gone).
  await engine.recover({ limit: 1_000 });
  await engine.idle();
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const maxPasses = opts.maxPasses ?? 5;
  let done = 0;
  let started = 0;
  const failed = new Map<string, { docId: string; status: string; reason?: string }>();
  let committed = 0;
  for (let pass = 1; ; pass++) {
    const k = next.target.chunking;
    const rechunking = opts.activeChunking !== undefined && opts.activeChunking !== k;
    const cmp = await compareTarget(stores, next.store, { chunking: k, ...(rechunking ? { graph: stores.neo4j } : {}) });
    committed = cmp.committed;
    const todo = [...new Set(cmp.problems.map((p) => p.docId).filter((id) => id !== ''))];
    if (todo.length === 0 || opts.signal?.aborted) {
      if (todo.length === 0) failed.clear(); // a later pass fixed them
      const unsettled = todo.length;
      return {
        passes: pass,
        reindexed: done,
        failed: [...failed.values()],
        committed,
        unsettled,
        seconds: (performance.now() - t0) / 1000,
      };
    }
    if (pass > maxPasses) {
      const unsettled = todo.length;
      return {
        passes: pass - 1,
        reindexed: done,
        failed: [...failed.values()],
        committed,
        unsettled,
        seconds: (performance.now() - t0) / 1000,
      };
    }
    let remaining = todo.length;
    const report = (): void => {
      const secs = (performance.now() - t0) / 1000;
      const rate = secs > 0 ? done / secs : 0;
      opts.onProgress?.({ pass, done, remaining, failed: failed.size, docsPerSec: rate, etaSec: rate > 0 ? remaining / rate : null });
    };
    report();
    let i = 0;
    const worker = async (): Promise<void> => {
      for (let docId = todo[i++]; docId !== undefined && !opts.signal?.aborted; docId = todo[i++]) {
        if (opts.rate !== undefined) {
          // Start number `started` no earlier than started/rate seconds after the first.
          const due = t0 + (started++ / opts.rate) * 1000;
          const wait = due - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
        await clearHolder(stores.postgres, engine, docId).catch(() => undefined); // the saga waits otherwise
        const outcome = await engine.execute(def, { docId }, { sagaId: (opts.sagaIds ?? newSagaId)(), key: docId });
        if (outcome.status === 'completed') {
          done++;
          failed.delete(docId);
        } else {
          failed.set(docId, { docId, status: outcome.status, ...(outcome.reason ? { reason: outcome.reason.message } : {}) });
        }
        remaining--;
        report();
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
  }
}
