// Removing what a stale owner wrote after it lost its lease. PostgreSQL, Neo4j and Redis refuse
// such writes (fencing tokens), but Qdrant has no conditional write: a worker paused (GC, SIGSTOP,
// a slow network) between building an upsert and sending it can land points after the saga's new
// owner finished or compensated, and even after a later saga replaced the version. Readers never
// see them (search keeps only PostgreSQL's committed version), and this sweep removes them so that
// the stores agree again: every derived version of D that is not D's committed one goes, while D
// is provably free (no saga holds it, none can take it during the sweep).
import type { StoreSet, VectorStore } from '../stores/types.js';

export type SweepResult = { swept: true; removed: number } | { swept: false; holder: string };

/** `vectors`: every vector target of the active index record (docs/reindex.md); default the process's own. */
export async function sweepDocument(stores: StoreSet, docId: string, vectors: VectorStore[] = [stores.qdrant]): Promise<SweepResult> {
  const r = await stores.postgres.whileFree(docId, async (row) => {
    const committed = row?.ingestionStatus === 'committed' ? row.contentSha256 : null;
    let removed = 0;
    for (const store of [stores.neo4j, ...vectors]) {
      for (const v of await store.listVersions(docId)) {
        if (v.contentSha256 === committed) continue;
        await store.removeVersion(docId, v.contentSha256);
        removed++;
      }
    }
    const cached = await stores.redis.get(docId);
    if (cached && cached.contentSha256 !== committed) {
      await stores.redis.remove(docId, cached.contentSha256);
      removed++;
    }
    return removed;
  });
  return r.free ? { swept: true, removed: r.value } : { swept: false, holder: r.holder };
}
