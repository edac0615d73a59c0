// The four stores as in-process engines with nothing on disk (PGlite in memory, the SQLite
// stand-ins on ':memory:'), for tests that run the real write path without servers.
import { openPgliteRelational } from '../../src/stores/pglite/relational-store.js';
import { openSqliteGraph } from '../../src/stores/sqlite/graph-store.js';
import { openSqliteVector } from '../../src/stores/sqlite/vector-store.js';
import { openSqliteCache } from '../../src/stores/sqlite/cache-store.js';
import type { StoreSet } from '../../src/stores/types.js';

export async function openMemoryStores(dimension: number): Promise<StoreSet> {
  return {
    postgres: await openPgliteRelational(),
    neo4j: await openSqliteGraph(':memory:'),
    qdrant: await openSqliteVector(':memory:', dimension),
    redis: await openSqliteCache(':memory:'),
  };
}

export async function closeStores(stores: StoreSet): Promise<void> {
  for (const s of Object.values(stores)) await s.close();
}
