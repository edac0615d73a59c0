// The in-memory set-up of the reindex unit tests: the simulation's stores (collections and
// aliases in memory), an active index record at the embedder's target on `apex_chunks`, the
// process's vector targets and an engine on the memory saga log.
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import type { HashingEmbedder } from '../../src/ingest/embedder.js';
import { IndexRecord } from '../../src/ingest/reindex/record.js';
import { VectorTargets, targetOfEmbedder } from '../../src/ingest/reindex/targets.js';
import { initialState } from '../../src/ingest/reindex/state.js';
import { simStores } from './sim-stores.js';
import { MemoryIndexState } from './memory-index-state.js';

export const REINDEX_BASE = 'apex_chunks';

export async function reindexUnitSetup(embedder: HashingEmbedder, opts: { leaseMs?: number } = {}) {
  const stores = simStores(Date.now, embedder.dimension);
  const record = new IndexRecord(new MemoryIndexState(), { cacheMs: 0 });
  await record.ensure(initialState({ ...targetOfEmbedder(embedder), collection: REINDEX_BASE }));
  const targets = new VectorTargets(record, { primary: stores.qdrant, primaryCollection: REINDEX_BASE, embedder, env: {} });
  const engine = new SagaEngine({ log: new MemorySagaLog(), leaseMs: opts.leaseMs ?? 5_000 });
  return { stores, record, targets, engine };
}
