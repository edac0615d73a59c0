// Before a write starts a saga on document D, the saga that holds D (single-writer rule,
// sagas/document-guard.ts) is brought to its end: waited for while its owner lives, taken over and
// finished here when its owner is dead. That is what makes "re-run the command after a crash" safe
// and fast: the dead run's saga on D finishes first, then the new write sees what it left.
import type { SagaEngine, SagaLogQueries, SagaOutcome } from '../saga/index.js';
import type { RelationalStore } from '../stores/types.js';
import { DocumentHeldError } from './errors.js';
import { errorCode } from '../lib/errors.js';

/** How many holders in a row one write will see through before giving up (each one finished). */
const MAX_HOLDERS = 8;

/** `self`: the saga id the caller is about to start (an idempotent repeat holds D itself). */
export async function clearHolder(postgres: RelationalStore, engine: SagaEngine, docId: string, self?: string): Promise<void> {
  for (let seen = 0; seen < MAX_HOLDERS; seen++) {
    const holder = await postgres.holderOf(docId);
    if (holder === undefined || holder === self) return;
    let outcome: SagaOutcome;
    try {
      outcome = await engine.settle(holder);
    } catch (err) {
      if (errorCode(err) === 'SAGA_NOT_FOUND') {
        throw new DocumentHeldError(docId, holder, 'this saga log does not know (another SAGA_LOG_URL?)');
      }
      throw err;
    }
    if (outcome.status === 'stuck') {
      throw new DocumentHeldError(
        docId,
        holder,
        `is stuck (${outcome.reason?.code ?? 'see sagas show'}): run \`apex-memory sagas retry ${holder}\` or \`sagas cancel ${holder}\``,
      );
    }
  }
  // Writers keep taking it: the saga's own first step waits for it (STORE_BUSY is retried).
}

/**
 * Unended sagas on D that do not hold it: a run killed between its begin and its first step (a
 * delete killed there never took D). They are finished first, oldest first, so that re-running the
 * killed command ends as if the killed run had ended before it: its erasure receipt needs no
 * `sagas recover`, and a dead ingest cannot resume later and write D back after this delete.
 * Queued (pending) sagas are a fleet's work and stuck ones an operator's: both are left alone.
 */
export async function settleEarlier(log: Pick<SagaLogQueries, 'list'>, engine: SagaEngine, docId: string, self?: string): Promise<void> {
  const page = await log.list({ key: docId, status: ['running', 'compensating'] }, { limit: MAX_HOLDERS, order: 'asc' });
  for (const s of page.sagas) {
    if (s.sagaId === self) continue;
    try {
      await engine.settle(s.sagaId); // waits while its owner lives; takes it over when dead
    } catch (err) {
      if (errorCode(err) !== 'SAGA_NOT_FOUND') throw err; // pruned meanwhile: nothing left to finish
    }
  }
}

/**
 * Holders met by a saga's step (STORE_BUSY): at each refusal, before the step's retry waits, the
 * holder is taken over and finished here if its owner is gone (its process died, or its lease
 * expired): engine.settle with no wait, which returns at once while the owner lives. Without it a
 * write that met a dead run's saga after the pre-check (clearHolder) waited its whole budget
 * (60 s) and then gave up. Nothing waits in the background: the step's own retries ask again.
 */
export class BusyHolders {
  private readonly settling = new Map<string, Promise<void>>();

  constructor(private readonly engine: Pick<SagaEngine, 'settle'>) {}

  readonly onBusy = (holder: string): void => {
    if (this.settling.has(holder)) return; // a takeover of it runs already
    const job = this.engine
      .settle(holder, { timeoutMs: 0 })
      .then(
        () => undefined,
        () => undefined, // its owner lives (SAGA_WAIT_TIMEOUT), another log's saga, the engine closing
      )
      .finally(() => this.settling.delete(holder));
    this.settling.set(holder, job);
  };

  /** How many holders are being settled now. */
  get pending(): number {
    return this.settling.size;
  }
}
