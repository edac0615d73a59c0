// Riding out an outage of the saga log (issue 22), as the sagas ride out the stores' (issue 15).
// Before, a saga whose `begin` or `append` met the log's database down failed at once with
// LOG_FAILURE: `apex-memory ingest` reported every document it read during the outage as an
// error, although a saga that had begun was later finished by whoever claimed it (in one run 7 of
// 117 documents reported failed were committed). Now `begin` and `append` are retried while the
// log answers with a retryable failure, for a time budget (the stores' outage budget, 60 s by
// default), with capped, jittered backoff.
//
// A retry must not turn a success into a failure. When the database went away after committing
// but before answering, the first attempt did apply:
//  - `append`: the retry is refused (its sequence number is taken). It then reads the saga: if the
//    records at that sequence number are exactly its own, the append had applied: success.
//  - `begin`: the retry finds the saga existing. If it is the saga this call created (same owner,
//    still its first records, same input), the retry answers `created` with its lease.
// A wrapper, not the backends: the rule is the same for all of them, and the engine (src/saga)
// stays free of outside imports and of any idea of "outage".
import type { AppendRequest, BeginRequest, BeginResult, LogRecord, SagaLog } from '../saga/index.js';

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 2_000;

export interface RideOutLogOptions {
  /** How long begin/append keep retrying a log that fails with a retryable error (0: never). */
  budgetMs: number;
  /** Told once when a call starts waiting on the log (with its first error), once when it stops (undefined). */
  onWait?: (err: unknown) => void;
  sleep?: (ms: number) => Promise<void>;
}

function retryable(err: unknown): boolean {
  const e = err as { code?: unknown; retryable?: unknown };
  return e.code === 'LOG_FAILURE' && e.retryable === true;
}

/** JSON with sorted keys: a record read back from the log may list its fields in another order. */
function canon(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canon).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canon(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const same = (a: unknown, b: unknown): boolean => canon(a) === canon(b);

/** Wraps `log` (the same object otherwise: queries, onCommit, close all reach it). */
export function rideOutLog<L extends SagaLog>(log: L, opts: RideOutLogOptions): L {
  if (opts.budgetMs <= 0) return log;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));

  /** Runs `attempt` until it succeeds, fails for good, or the budget is spent. `applied(err)`
   * decides, when a retry failed for good, whether an earlier attempt had applied after all. */
  async function retrying<T>(
    attempt: () => Promise<T>,
    applied: (err: unknown) => Promise<T | null>,
  ): Promise<{ value: T; retried: boolean }> {
    const started = Date.now();
    let retried = false;
    for (let n = 1; ; n++) {
      try {
        const value = await attempt();
        if (retried) opts.onWait?.(undefined);
        return { value, retried };
      } catch (err) {
        if (retried && !retryable(err)) {
          const value = await applied(err).catch(() => null);
          opts.onWait?.(undefined);
          if (value !== null) return { value, retried };
          throw err;
        }
        const left = started + opts.budgetMs - Date.now();
        if (!retryable(err) || left <= 0) {
          if (retried) opts.onWait?.(undefined);
          throw err;
        }
        if (!retried) opts.onWait?.(err);
        retried = true;
        const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(n - 1, 16));
        await sleep(Math.min(left, Math.floor(Math.random() * ceiling) + 1));
      }
    }
  }

  const append = async (req: AppendRequest): Promise<void> => {
    await retrying(
      () => log.append(req).then(() => true),
      async () => {
        // Refused (its sequence number taken): were the records there its own?
        const saga = await log.load(req.sagaId);
        const there: LogRecord[] | undefined = saga?.records.slice(req.firstSeq, req.firstSeq + req.records.length);
        return there !== undefined && same(there, req.records) ? true : null;
      },
    );
  };

  const begin = async (req: BeginRequest): Promise<BeginResult> => {
    const { value: res, retried } = await retrying(
      () => log.begin(req),
      () => Promise.resolve(null),
    );
    if (res.created || !retried) return res;
    // Found existing after a retry: created by an attempt whose answer was lost? Then it is this
    // call's saga, untouched since (same owner and input, only its first records).
    const saga = await log.load(req.sagaId);
    const first = req.records ?? [];
    if (
      saga &&
      req.owner !== null &&
      saga.owner === req.owner &&
      saga.status === req.status &&
      same(saga.input, req.input) &&
      same(saga.records, first)
    ) {
      return { created: true, lease: { owner: req.owner, fencingToken: saga.fencingToken } };
    }
    return res;
  };

  return new Proxy(log, {
    get(target, prop, receiver) {
      if (prop === 'append') return append;
      if (prop === 'begin') return begin;
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
