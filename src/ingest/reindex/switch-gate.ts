// The gate of `reindex --switch` under live traffic (docs/reindex.md "The switch under traffic").
// verify finds documents whose sagas are in flight: a write between its dual vector write and its
// cleanup holds two versions in the next target (stale_version), a new document's vectors are
// there before its commit (orphan). Their sagas end both targets alike (dual writes), so they are
// not gaps of the new index; refusing on them made --switch fail under constant writes. So the
// gate waits for the sagas that hold those documents to end, then checks those documents again;
// what is still wrong once nothing holds it is a real gap (the reindex loop's work): refused.
import { compareDocuments, type TargetProblem } from './compare.js';
import type { IndexState } from './state.js';
import type { StoreSet, VectorStore } from '../../stores/types.js';

/** How long, in all, --switch waits for the sagas holding documents verify found not current. */
export const SWITCH_WAIT_MS = 30_000;
const POLL_MS = 200;
/** More documents than this not current is a gap of the index, not sagas in flight: no waiting. */
const MAX_RECHECK = 1_000;

export interface GateDeps {
  stores: StoreSet;
  vectors: VectorStore;
  sleep?: (ms: number) => Promise<void>;
  /** SWITCH_WAIT_MS unless given (tests). */
  switchWaitMs?: number;
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The problems left once the sagas holding the problem documents ended (or the wait ran out). */
export async function settleInFlight(deps: GateDeps, state: IndexState, problems: TargetProblem[]): Promise<TargetProblem[]> {
  const next = state.next;
  if (!next || problems.length === 0) return problems;
  const store = deps.vectors.withCollection(next.collection, next.dimension);
  const opts = { chunking: next.chunking, ...(next.chunking !== state.active.chunking ? { graph: deps.stores.neo4j } : {}) };
  const sleep = deps.sleep ?? sleepMs;
  let polls = Math.ceil((deps.switchWaitMs ?? SWITCH_WAIT_MS) / POLL_MS);
  let left = problems;
  for (;;) {
    if (left.some((p) => p.docId === '')) return left; // the collection itself: no saga fixes that
    const ids = [...new Set(left.map((p) => p.docId))];
    if (ids.length > MAX_RECHECK) return left;
    const holders = await holdersOf(deps.stores, ids);
    if (holders.size === 0) return left; // nothing in flight: a real gap
    // Until every saga seen holding one of them has let it go (a new one may hold it next).
    while (polls > 0) {
      await sleep(POLL_MS);
      polls--;
      const now = await holdersOf(deps.stores, [...holders.keys()]);
      if ([...holders].every(([id, saga]) => now.get(id) !== saga)) break;
    }
    left = await compareDocuments(deps.stores, store, ids, opts);
    if (polls <= 0) return left;
  }
}

async function holdersOf(stores: StoreSet, ids: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const found = await Promise.all(ids.map((id) => stores.postgres.holderOf(id)));
  ids.forEach((id, i) => {
    const h = found[i];
    if (h !== undefined) out.set(id, h);
  });
  return out;
}
