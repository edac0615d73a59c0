// The active index record (docs/reindex.md) as the processes use it: read at start (and created
// from today's settings on the very first start), read again by the sagas through a short cache,
// and changed by the reindex command with compare-and-set (state.ts has the transitions).
import type { IndexStateStore } from '../../stores/types.js';
import { parseState, type IndexState } from './state.js';

export interface VersionedState {
  version: number;
  state: IndexState;
}

/** How long a saga may act on a record read earlier (ms). The reindex loop re-checks every document
 * after it, so a saga that missed a change by this much is caught by the next pass. */
export const RECORD_CACHE_MS = 1_000;

/** CAS attempts before a change gives up (another operator keeps changing the record). */
const CAS_ATTEMPTS = 8;

export class IndexRecord {
  private cached: { at: number; value: VersionedState } | undefined;

  constructor(
    private readonly store: IndexStateStore,
    private readonly opts: { cacheMs?: number; now?: () => number } = {},
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  /** The record as stored now (undefined before the first start created it). */
  async read(): Promise<VersionedState | undefined> {
    const raw = await this.store.readIndexState();
    if (!raw) return undefined;
    const value = { version: raw.version, state: parseState(raw.state) };
    this.cached = { at: this.now(), value };
    return value;
  }

  /** The record, read at most `cacheMs` ago (sagas: one read per second, not per step). */
  async current(): Promise<VersionedState> {
    const c = this.cached;
    if (c && this.now() - c.at < (this.opts.cacheMs ?? RECORD_CACHE_MS)) return c.value;
    const v = await this.read();
    if (!v) throw new Error('the active index record is missing (it is created when a process starts)');
    return v;
  }

  /** Reads the record, creating it with `initial` when there is none (first start of a deployment). */
  async ensure(initial: IndexState): Promise<VersionedState> {
    const found = await this.read();
    if (found) return found;
    const version = await this.store.writeIndexState(0, initial);
    if (version !== null) {
      const value = { version, state: initial };
      this.cached = { at: this.now(), value };
      return value;
    }
    const raced = await this.read(); // another process created it first
    if (!raced) throw new Error('the active index record could not be created');
    return raced;
  }

  /**
   * Applies `change` by compare-and-set, re-reading and re-applying when another process changed
   * the record meanwhile (so `change` sees the state it replaces). A change that returns the same
   * state object writes nothing.
   */
  async change(change: (s: IndexState) => IndexState): Promise<VersionedState & { changed: boolean }> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const cur = await this.read();
      if (!cur) throw new Error('the active index record is missing (it is created when a process starts)');
      const next = change(cur.state);
      if (next === cur.state) return { ...cur, changed: false };
      const version = await this.store.writeIndexState(cur.version, next);
      if (version !== null) {
        const value = { version, state: next };
        this.cached = { at: this.now(), value };
        return { ...value, changed: true };
      }
    }
    throw new Error(`the active index record kept changing under ${CAS_ATTEMPTS} attempts; try again`);
  }
}
