// The active index record (src/stores/postgres/index-state.ts) in memory, with the same
// compare-and-set contract, for unit tests that run on fake stores.
import type { IndexStateStore, StoredIndexState } from '../../src/stores/types.js';

export class MemoryIndexState implements IndexStateStore {
  private row: StoredIndexState | undefined;
  async readIndexState(): Promise<StoredIndexState | undefined> {
    await Promise.resolve(); // a round trip: concurrent callers interleave here
    return this.row ? { ...this.row, state: structuredClone(this.row.state) } : undefined;
  }
  async writeIndexState(expectedVersion: number, state: unknown): Promise<number | null> {
    await Promise.resolve();
    const current = this.row?.version ?? 0;
    if (current !== expectedVersion) return null;
    this.row = { version: current + 1, state: structuredClone(state), updatedAt: new Date() };
    return current + 1;
  }
}
