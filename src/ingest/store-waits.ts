// Which documents are waiting on a store that is down (issue 15: outages are ridden out, so a
// document can sit for up to its outage budget; the operator must see why). Fed in this process
// by the engine's onRetry hook (a step failed with a retryable store error and will run again:
// in this process after a backoff, or as a durable timer) and by the writer's own retries before
// a saga begins; cleared when the step succeeds or the saga ends. `waitingInLog` reads the same
// from the saga log, for `status` in another process.
import type { ErrorInfo, LogRecord, SagaHooks, SagaLogBackend } from '../saga/index.js';
import type { StoreName } from '../stores/types.js';

const STORES: readonly StoreName[] = ['postgres', 'neo4j', 'qdrant', 'redis'];

/**
 * The store a retried step failure waits on, or undefined when it is not a store being down
 * (STORE_BUSY waits on another saga holding the document). StoreError messages start with the
 * store's name; an engine timeout names the step, whose name starts with the store's.
 */
export function storeOfFailure(step: string, error: ErrorInfo): StoreName | undefined {
  if (error.code === 'STORE_BUSY') return undefined;
  const prefixed = STORES.find((s) => error.message.startsWith(`${s}: `));
  if (prefixed) return prefixed;
  if (error.code === 'STEP_TIMEOUT') return STORES.find((s) => step.startsWith(`${s}_`));
  return undefined;
}

export type StoreCounts = Partial<Record<StoreName, number>>;

interface Wait {
  store: StoreName;
  step: string;
  /** A durable timer's wait may end in another process: forget it after this (epoch ms). */
  until?: number;
}

/** Grace after a durable timer's due time before its wait is forgotten (it ran elsewhere). */
const DURABLE_GRACE_MS = 60_000;

export class StoreWaits {
  private readonly waits = new Map<string, Wait>();
  private readonly waited = new Map<StoreName, Set<string>>();

  constructor(private readonly now: () => number = Date.now) {}

  /** `key` (a saga id, or `doc:<id>` before a saga begins) waits on `store`. */
  note(key: string, store: StoreName, step = '', durableMs?: number): void {
    const w: Wait = { store, step };
    if (durableMs !== undefined) w.until = this.now() + durableMs + DURABLE_GRACE_MS;
    this.waits.set(key, w);
    let set = this.waited.get(store);
    if (!set) this.waited.set(store, (set = new Set()));
    set.add(key);
  }

  clear(key: string, step?: string): void {
    const w = this.waits.get(key);
    if (w && (step === undefined || w.step === step)) this.waits.delete(key);
  }

  /** Documents (sagas) waiting now, by store; stores with none are left out. */
  current(): StoreCounts {
    const out: StoreCounts = {};
    const now = this.now();
    for (const [key, w] of this.waits) {
      if (w.until !== undefined && w.until < now) {
        this.waits.delete(key);
        continue;
      }
      out[w.store] = (out[w.store] ?? 0) + 1;
    }
    return out;
  }

  /** Distinct documents (sagas) that waited on each store at some point in this process. */
  total(): StoreCounts {
    const out: StoreCounts = {};
    for (const [store, keys] of this.waited) out[store] = keys.size;
    return out;
  }

  readonly hooks: SagaHooks = {
    onRetry: (e) => {
      if (e.phase !== 'forward') return;
      const store = storeOfFailure(e.step, e.error);
      if (store) this.note(e.sagaId, store, e.step, e.durable === true ? e.delayMs : undefined);
      else this.clear(e.sagaId);
    },
    onStepEnd: (e) => {
      if (e.ok) this.clear(e.sagaId, e.step);
    },
    onSagaEnd: (e) => {
      if (e.status !== 'suspended') this.clear(e.sagaId);
    },
  };
}

/** "neo4j: 12, postgres: 3" (stores with a count, in a fixed order); "" when none. */
export function formatStoreCounts(counts: StoreCounts): string {
  return STORES.filter((s) => (counts[s] ?? 0) > 0)
    .map((s) => `${s}: ${counts[s] ?? 0}`)
    .join(', ');
}

/**
 * Sagas that the log shows waiting on a store: running, with a step whose latest failure was a
 * retryable store error and that has not succeeded since (its next attempt is sleeping, in flight
 * or a durable timer). Reads at most `limit` running sagas.
 */
export async function waitingInLog(log: SagaLogBackend, limit = 500): Promise<{ counts: StoreCounts; scanned: number; more: boolean }> {
  const running = (await log.list({ status: 'running' }, { limit: limit + 1 })).sagas;
  const counts: StoreCounts = {};
  for (const s of running.slice(0, limit)) {
    const stored = await log.load(s.sagaId);
    const store = stored ? waitingOn(stored.records) : undefined;
    if (store) counts[store] = (counts[store] ?? 0) + 1;
  }
  return { counts, scanned: Math.min(running.length, limit), more: running.length > limit };
}

/** The store one saga's records show it waiting on (the latest such step), if any. */
export function waitingOn(records: readonly LogRecord[]): StoreName | undefined {
  const byStep = new Map<string, StoreName | undefined>();
  let last: string | undefined;
  for (const r of records) {
    if (r.type === 'step_failed') {
      byStep.set(r.step, r.willRetry ? storeOfFailure(r.step, r.error) : undefined);
      last = r.step;
    } else if (r.type === 'step_succeeded') {
      byStep.delete(r.step);
    }
  }
  if (last !== undefined && byStep.get(last)) return byStep.get(last);
  for (const store of byStep.values()) if (store) return store;
  return undefined;
}
