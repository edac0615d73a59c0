// Chunkings in the graph (docs/reindex.md "Re-chunking"): a re-chunking reindex writes a second set
// of Chunk nodes for each version beside the serving one, attached to the same Document. Nodes of
// chunking 1 (every node written before chunkings existed) keep their ids and carry no `chunking`
// property; another chunking's nodes get ids `docId:sha:idx@c<n>` and `chunking: n`. Reads group
// by coalesce(c.chunking, 1), so the existing data needs no migration.
import neo4j from 'neo4j-driver';
import type { ManagedTransaction } from 'neo4j-driver';
import { graphChunkKey } from '../point-id.js';
import { chunkingOf, type DocumentVersion, type StoredVersion } from '../types.js';

/** A version's chunk nodes as query parameters, in idx order (the lock order of graph-store.ts). */
export function chunkParams(v: DocumentVersion): Array<{
  id: string;
  idx: ReturnType<typeof neo4j.int>;
  chunking: ReturnType<typeof neo4j.int> | null;
  entities: string[];
}> {
  const k = chunkingOf(v);
  return [...v.chunks]
    .sort((a, b) => a.idx - b.idx)
    .map((c) => ({
      id: graphChunkKey(v.docId, v.contentSha256, c.idx, k),
      idx: neo4j.int(c.idx),
      // null for chunking 1: SET removes the property, so such nodes look exactly as before.
      chunking: k === 1 ? null : neo4j.int(k),
      entities: [...new Set(c.entities)].sort(),
    }));
}

/** One row per (version, chunking): `chunking` only when it is not 1 (StoredVersion). */
export function storedVersion(docId: string, sha: unknown, chunking: unknown, n: unknown): StoredVersion {
  const k = Number(chunking);
  return { docId, contentSha256: String(sha), chunkCount: Number(n), ...(k !== 1 ? { chunking: k } : {}) };
}

const CHUNKING_ENTITIES = `
UNWIND $ids AS id
MATCH (c:Chunk {doc_id: id})-[:MENTIONS]->(e:Entity)
WHERE coalesce(c.chunking, 1) = $chunking
RETURN DISTINCT e.name AS name`;

/** Locks entities by name (the removals' step of the global lock order; shared with batch.ts). */
export const LOCK_ENTITIES = `
UNWIND $names AS name
MATCH (e:Entity {name: name})
SET e._lock = true
REMOVE e._lock`;

const LOCK_DOCUMENTS = `
UNWIND $ids AS id
MATCH (d:Document {id: id})
SET d._lock = true
REMOVE d._lock`;

const COUNT_CHUNKS = `
UNWIND $ids AS id
MATCH (c:Chunk {doc_id: id})
WHERE coalesce(c.chunking, 1) = $chunking
RETURN count(c) AS n`;

const REMOVE_CHUNKS = `
UNWIND $ids AS id
MATCH (c:Chunk {doc_id: id})
WHERE coalesce(c.chunking, 1) = $chunking
WITH c ORDER BY c.doc_id, c.idx
OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
WITH collect(DISTINCT c) AS chunks, collect(DISTINCT e) AS ents
FOREACH (c IN chunks | DETACH DELETE c)
WITH ents
UNWIND ents AS e
WITH e WHERE NOT (e)<-[:MENTIONS]-()
DELETE e`;

const REMOVE_EMPTY_DOCUMENTS = `
UNWIND $ids AS id
MATCH (d:Document {id: id}) WHERE NOT (d)-[:HAS_CHUNK]->()
DETACH DELETE d`;

/**
 * Removes one chunking's chunk nodes of these documents in the global lock order (entities by
 * name, then documents by id, then the chunks), the entities only they mentioned, and documents
 * left without chunks. Returns how many chunk nodes went.
 */
export async function dropChunking(tx: ManagedTransaction, docIds: readonly string[], chunking: number): Promise<number> {
  const ids = [...new Set(docIds)].sort();
  const params = { ids, chunking: neo4j.int(chunking) };
  const names = [...new Set((await tx.run(CHUNKING_ENTITIES, params)).records.map((r) => String(r.get('name'))))].sort();
  if (names.length > 0) await tx.run(LOCK_ENTITIES, { names });
  await tx.run(LOCK_DOCUMENTS, { ids });
  const n = Number((await tx.run(COUNT_CHUNKS, params)).records[0]?.get('n') ?? 0);
  if (n === 0) return 0;
  await tx.run(REMOVE_CHUNKS, params);
  await tx.run(REMOVE_EMPTY_DOCUMENTS, { ids });
  return n;
}
