// The WriteFence nodes' upkeep (issue 24): every fenced write stamps its fence with the server's
// time (`written_at`), and the fence sweep (src/ingest/fence-sweep.ts, run by `apex-memory vacuum`)
// pages through the fences and removes those whose saga ended long ago. Which fences may go is the
// sweep's decision (it reads the saga log); this file only reads and deletes nodes.
import neo4j from 'neo4j-driver';
import type { ManagedTransaction } from 'neo4j-driver';
import type { FenceRef, StoredFence } from '../types.js';

/**
 * One page of fences in (doc_id, saga_id) order after the cursor. A fence written before fences
 * carried `written_at` gets it now (the sweep's first pass): it then ages like any other fence
 * instead of being kept forever or removed at once. Only those are written: a SET on every fence
 * would write-lock the page's fences, live sagas' included, for the sweep's transaction.
 */
const SCAN_FENCES = `
MATCH (f:WriteFence)
WHERE $afterDoc IS NULL OR f.doc_id > $afterDoc OR (f.doc_id = $afterDoc AND f.saga_id > $afterSaga)
WITH f ORDER BY f.doc_id, f.saga_id LIMIT $limit
FOREACH (_ IN CASE WHEN f.written_at IS NULL THEN [1] ELSE [] END | SET f.written_at = timestamp())
RETURN f.doc_id AS docId, f.saga_id AS sagaId, f.written_at AS writtenAt, timestamp() AS now`;

/** Deletes the named fences unless one was written after the sweep read it (`written_at` moved). */
const DROP_FENCES = `
UNWIND $fences AS x
MATCH (f:WriteFence {doc_id: x.docId, saga_id: x.sagaId})
WHERE f.written_at <= x.writtenAt
DELETE f
RETURN count(f) AS dropped`;

export async function scanFences(tx: ManagedTransaction, after: FenceRef | null, limit: number): Promise<StoredFence[]> {
  const res = await tx.run(SCAN_FENCES, { afterDoc: after?.docId ?? null, afterSaga: after?.sagaId ?? null, limit: neo4j.int(limit) });
  return res.records.map((r) => ({
    docId: String(r.get('docId')),
    sagaId: String(r.get('sagaId')),
    // Server time on both sides: the age does not depend on this machine's clock.
    ageMs: Math.max(0, Number(r.get('now')) - Number(r.get('writtenAt'))),
    writtenAt: Number(r.get('writtenAt')),
  }));
}

export async function dropFences(tx: ManagedTransaction, fences: readonly StoredFence[]): Promise<number> {
  if (fences.length === 0) return 0;
  const res = await tx.run(DROP_FENCES, {
    fences: fences.map((f) => ({ docId: f.docId, sagaId: f.sagaId, writtenAt: neo4j.int(f.writtenAt) })),
  });
  return Number(res.records[0]?.get('dropped') ?? 0);
}
