// The reindex loop (docs/reindex.md): compares the target being built with PostgreSQL and runs
// one reindex saga per document that is not current there, then compares again, until a pass
// finds nothing to do (a fixed point). So a document that a live saga wrote without the dual
// write (it read the record before the migration began) is caught by a later pass, and a re-run
// after SIGKILL continues where the killed run stopped: the comparison is the only progress
// record it needs.
import type { SagaDefinition, SagaEngine, SagaLogQueries } from '../../saga/index.js';
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

export interface ReindexRunDeps {
  stores: StoreSet;
  /** Its own process's engine may be a busy one (the HTTP server, a worker): see settleOwn. */
  engine: SagaEngine;
  def: SagaDefinition<ReindexInput, Record<string, unknown>>;
  /** Finds this engine's unended reindex sagas; default: the engine's log (every bundled log answers it). */
  log?: Pick<SagaLogQueries, 'list'>;
}

export async function runReindex(deps: ReindexRunDeps, next: TargetBinding, opts: ReindexRunOptions = {}): Promise<ReindexSummary> {
  const t0 = performance.now();
  const { stores, engine, def } = deps;
  const log = deps.log ?? queriesOf(engine);
  // Sagas a killed run left behind on this host are taken over first (their owner is gone).
  await engine.recover({ limit: 1_000 });
  const concurrency = Math.max(1, opts.concurrency ?? 4);
  const maxPasses = opts.maxPasses ?? 5;
  let done = 0;
  let started = 0;
  const failed = new Map<string, { docId: string; status: string; reason?: string }>();
  let committed = 0;
  for (let pass = 1; ; pass++) {
    await settleOwn(engine, def.name, log);
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

const OWN_PAGE = 1_000;

/**
 * Waits until no reindex saga of this engine runs: the ones `recover` just took over from a killed
 * run, or that this process's own recovery took over meanwhile. A comparison while one of them runs
 * could count a document current that its compensation then removes from the target, and end the
 * loop at a false fixed point. Only the reindex sagas: the engine may be a busy process's, whose
 * writers never leave it idle and are none of the loop's business (the loop's fixed point already
 * catches what they write meanwhile). The loop's own sagas of a pass have all ended when the next
 * pass begins (the workers await them).
 */
async function settleOwn(engine: SagaEngine, name: string, log: Pick<SagaLogQueries, 'list'> | undefined): Promise<void> {
  if (!log) {
    await engine.idle(); // a log without queries cannot tell its reindex sagas apart: every saga
    return;
  }
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await log.list(
      { name, owner: engine.owner, status: ['running', 'compensating'] },
      { limit: OWN_PAGE, ...(cursor === null ? {} : { cursor }) },
    );
    ids.push(...page.sagas.map((s) => s.sagaId));
    cursor = page.next;
  } while (cursor !== null);
  // settle waits for a saga running here and finishes one whose run this process let go.
  await Promise.allSettled(ids.map((id) => engine.settle(id)));
}

/** The engine's log as a query interface, when it is one (the memory, SQLite and PostgreSQL logs). */
function queriesOf(engine: SagaEngine): Pick<SagaLogQueries, 'list'> | undefined {
  const log: unknown = engine.log;
  if (typeof log !== 'object' || log === null || !('list' in log) || typeof log.list !== 'function') return undefined;
  return log as Pick<SagaLogQueries, 'list'>;
}
