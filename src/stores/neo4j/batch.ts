// Batched writeVersion / removeVersion for Neo4j (store group commit): the members' documents in
// one transaction, keeping the adapter's global lock order (graph-store.ts, "Lock order") across
// the whole batch: all fence nodes (sorted by doc id, saga id), then all entities (by name, code
// units, sorted here), then all Document nodes (by id), then each document's chunks (by idx).
// Every transaction, batched or not, takes its locks in this one order, so batches cannot
// deadlock with each other or with per-document calls.
//
// Round trips: a write is ONE round trip. Its statements are sent together (the driver pipelines
// the runs of one transaction; none waits for the previous one's result). The fence check is per
// member: statement 1 raises each member's fence (a stale member's raise changes nothing), and the
// later statements act only for members whose fence now holds exactly their token, reading it
// again in each statement, so a stale member writes nothing and fails alone (STORE_FENCED), while
// the others commit. Each later statement is a new statement: its MERGEs see what a remover
// committed while this one waited for locks (graph-store.ts, the re-read after the lock).
//
// A lock wait past the transaction timeout, a deadlock or a lost connection fails the whole
// transaction (rolled back): the batch rejects, and every member retries by its own policy; none
// is compensated for it.
import neo4j from 'neo4j-driver';
import type { ManagedTransaction } from 'neo4j-driver';
import { StoreError } from '../errors.js';
import { chunkParams, LOCK_ENTITIES } from './chunkings.js';
import { failed, OK, type MemberOutcome, type RemoveVersionItem, type WriteItem } from '../batch-types.js';
import type { WriteContext } from '../types.js';

interface FenceRow {
  i: number;
  docId: string;
  sagaId: string;
  token: ReturnType<typeof neo4j.int>;
}

/** Raises each member's fence, in (doc id, saga id) order; returns the token found before. */
const RAISE_FENCES = `
UNWIND $fences AS m
MERGE (f:WriteFence {doc_id: m.docId, saga_id: m.sagaId})
SET f._lock = true
WITH f, m, f.fencing_token AS current
SET f.fencing_token = CASE WHEN current IS NOT NULL AND current > m.token THEN current ELSE m.token END,
    f.written_at = timestamp()
REMOVE f._lock
RETURN m.i AS i, current`;

/** True for a member that is unfenced (no context) or whose fence holds exactly its token. */
const LIVE = `(m.sagaId IS NULL OR EXISTS { MATCH (f:WriteFence {doc_id: m.docId, saga_id: m.sagaId}) WHERE f.fencing_token = m.token })`;

/** Entities in name order ($names sorted here); each carries the members that need it. */
const LOCK_ENTITIES_FOR_WRITE = `
UNWIND $names AS n
WITH n WHERE any(m IN n.members WHERE ${LIVE})
MERGE (locked:Entity {name: n.name})
SET locked._lock = true
REMOVE locked._lock
WITH n
MERGE (:Entity {name: n.name})`;

const LOCK_DOCUMENTS_FOR_WRITE = `
UNWIND $members AS m
WITH m WHERE ${LIVE}
MERGE (d:Document {id: m.docId}) SET d._lock = true REMOVE d._lock`;

const WRITE_VERSIONS = `
UNWIND $members AS m
WITH m WHERE ${LIVE}
CALL (m) {
  MERGE (d:Document {id: m.docId})
  WITH d
  UNWIND m.chunks AS c
  MERGE (ch:Chunk {id: c.id})
  SET ch.doc_id = m.docId, ch.content_sha256 = m.sha, ch.idx = c.idx, ch.chunking = c.chunking
  MERGE (d)-[:HAS_CHUNK]->(ch)
  WITH ch, c
  UNWIND c.entities AS name
  MERGE (e:Entity {name: name})
  MERGE (ch)-[:MENTIONS]->(e)
}`;

const byKey = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function fenceRows(items: ReadonlyArray<{ docId: string; ctx?: WriteContext }>): FenceRow[] {
  return items
    .flatMap((it, i) => (it.ctx ? [{ i, docId: it.docId, sagaId: it.ctx.sagaId, token: neo4j.int(it.ctx.fencingToken) }] : []))
    .sort((a, b) => byKey(a.docId, b.docId) || byKey(a.sagaId, b.sagaId));
}

/** The members a fence refused: current token above theirs. */
function staleMembers(
  records: Array<{ get(key: string): unknown }>,
  items: ReadonlyArray<{ docId: string; ctx?: WriteContext }>,
): Map<number, StoreError> {
  const stale = new Map<number, StoreError>();
  for (const r of records) {
    const i = Number(r.get('i'));
    const current: unknown = r.get('current');
    const it = items[i];
    if (it?.ctx && typeof current === 'number' && current > it.ctx.fencingToken) {
      stale.set(
        i,
        new StoreError(
          'neo4j',
          'STORE_FENCED',
          `saga ${it.ctx.sagaId} token ${it.ctx.fencingToken} is stale for document ${JSON.stringify(it.docId)} (fence at ${current})`,
        ),
      );
    }
  }
  return stale;
}

function memberParam(
  docId: string,
  ctx: WriteContext | undefined,
): { docId: string; sagaId: string | null; token: ReturnType<typeof neo4j.int> | null } {
  return { docId, sagaId: ctx?.sagaId ?? null, token: ctx ? neo4j.int(ctx.fencingToken) : null };
}

/** writeVersion of many documents: one transaction, its statements pipelined (one round trip). */
export async function writeVersionBatch(tx: ManagedTransaction, items: readonly WriteItem[]): Promise<Array<MemberOutcome<void>>> {
  const keyed = items.map(({ v, ctx }) => ({ docId: v.docId, ctx }));
  const members = items
    .map(({ v, ctx }) => ({
      ...memberParam(v.docId, ctx),
      sha: v.contentSha256,
      chunks: chunkParams(v),
    }))
    .sort((a, b) => byKey(a.docId, b.docId));
  const needs = new Map<string, Array<ReturnType<typeof memberParam>>>();
  for (const m of members) {
    for (const name of new Set(m.chunks.flatMap((c) => c.entities))) {
      const list = needs.get(name) ?? [];
      list.push({ docId: m.docId, sagaId: m.sagaId, token: m.token });
      needs.set(name, list);
    }
  }
  const names = [...needs.keys()].sort().map((name) => ({ name, members: needs.get(name) ?? [] }));
  // All four runs go out before any answer is awaited; Promise.all listens to every one of them.
  const [raised] = await Promise.all([
    tx.run(RAISE_FENCES, { fences: fenceRows(keyed) }),
    tx.run(LOCK_ENTITIES_FOR_WRITE, { names }),
    tx.run(LOCK_DOCUMENTS_FOR_WRITE, { members }),
    tx.run(WRITE_VERSIONS, { members }),
  ]);
  const stale = staleMembers(raised.records, keyed);
  return items.map((_, i) => {
    const s = stale.get(i);
    return s ? failed(s) : OK;
  });
}

/** The entity names each removed version's chunks mention (reads take no locks). */
const MENTIONED = `
UNWIND $members AS m
MATCH (c:Chunk {doc_id: m.docId, content_sha256: m.sha})-[:MENTIONS]->(e:Entity)
RETURN DISTINCT e.name AS name`;

const REMOVE_VERSIONS = `
UNWIND $members AS m
WITH m WHERE ${LIVE}
MATCH (d:Document {id: m.docId}) SET d._lock = true REMOVE d._lock`;

const DELETE_CHUNKS = `
UNWIND $members AS m
WITH m WHERE ${LIVE}
CALL (m) {
  MATCH (c:Chunk {doc_id: m.docId, content_sha256: m.sha})
  WITH c ORDER BY c.idx
  OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
  WITH collect(DISTINCT c) AS chunks, collect(DISTINCT e) AS ents
  FOREACH (c IN chunks | DETACH DELETE c)
  WITH ents
  UNWIND ents AS e
  WITH e WHERE NOT (e)<-[:MENTIONS]-()
  DELETE e
}
WITH DISTINCT m
MATCH (d:Document {id: m.docId}) WHERE NOT (d)-[:HAS_CHUNK]->()
DETACH DELETE d`;

/** removeVersion of many documents: two round trips (the names to lock are read first). */
export async function removeVersionBatch(tx: ManagedTransaction, items: readonly RemoveVersionItem[]): Promise<Array<MemberOutcome<void>>> {
  const members = items.map((it) => ({ ...memberParam(it.docId, it.ctx), sha: it.contentSha256 })).sort((a, b) => byKey(a.docId, b.docId));
  const [raised, mentioned] = await Promise.all([tx.run(RAISE_FENCES, { fences: fenceRows(items) }), tx.run(MENTIONED, { members })]);
  const names = [...new Set(mentioned.records.map((r) => String(r.get('name'))))].sort();
  await Promise.all([tx.run(LOCK_ENTITIES, { names }), tx.run(REMOVE_VERSIONS, { members }), tx.run(DELETE_CHUNKS, { members })]);
  const stale = staleMembers(raised.records, items);
  return items.map((_, i) => {
    const s = stale.get(i);
    return s ? failed(s) : OK;
  });
}
