// `apex-memory verify`: checks the design's invariant across the four stores and reports every
// violation. Once no saga is running:
//  - a document has data in Neo4j, Qdrant or Redis only if its PostgreSQL row is 'committed',
//    and only for its current version;
//  - a committed document has all of its current chunks in Neo4j and Qdrant (and PostgreSQL);
//  - no row is left 'pending' or 'deleting', no in-flight version is left behind, and no document
//    is still held by a saga (document_locks).
//
// It scales with bounded memory (docs/RELIABILITY.md "verify at scale"): two streaming passes,
// each holding one page at a time.
//  1. PostgreSQL's documents in id order, `batchSize` at a time (one statement gives the rows, the
//     committed chunk counts and the in-flight versions); for the committed ones of the page, one
//     batched read per derived store (Neo4j UNWIND, a Qdrant scroll filtered by `match any`, Redis
//     MGET). That checks every committed document's current version and stale versions beside it.
//  2. Every derived store's doc ids, streamed page by page in the store's own order, each page
//     checked against PostgreSQL's statuses in one query: data of a document that is not
//     committed (or has no row) is orphan data.
// So a run costs about 5 round trips per `batchSize` documents instead of ~5 per document.
import type { DocumentInspection, GraphStore, StoreName, StoreSet, StoredVersion, VectorStore } from '../stores/types.js';

export type ViolationKind =
  | 'orphan_data' // data in a derived store for a document that is not committed in PostgreSQL
  | 'stale_version' // a derived store holds a version other than the committed one
  | 'missing_version' // a committed document's current version is absent from a store
  | 'chunk_count' // the current version is there with the wrong number of chunks
  | 'cache_stale' // the Redis entry names another version
  | 'not_final' // a PostgreSQL row left 'pending' or 'deleting'
  | 'leftover_version' // an in-flight version row left in PostgreSQL
  | 'held' // a document still held by a saga (single-writer rule): that saga has not ended
  | 'schema_missing' // a derived store lacks a schema rule, its marker or its collection (docId '')
  | 'duplicate_node'; // nodes a missing uniqueness rule let double, e.g. two Entity nodes of one name (docId '')

export interface Violation {
  kind: ViolationKind;
  store: StoreName;
  docId: string;
  detail: string;
  /** The version concerned, where there is one (stale_version, cache_stale). */
  version?: string;
}

/** Schema findings concern no document: their docId is ''. */
export const isSchemaViolation = (v: Violation): boolean => v.kind === 'schema_missing' || v.kind === 'duplicate_node';

export interface VerifyReport {
  documents: number;
  committed: number;
  violations: Violation[];
}

export interface VerifyOptions {
  /** Violations kept in the report (the rest are counted in no list; default 10,000). */
  maxViolations?: number;
  /** Documents (and derived-store ids) per page; default 1,000. */
  batchSize?: number;
  /** The other vector collections of a reindex in progress (dual writes, docs/reindex.md): each is
   * checked like Qdrant's (violations on store 'qdrant', the detail names the collection). One
   * still being built (`complete: false`) is checked for orphans and stale versions only: what it
   * still lacks is `reindex --verify`'s report. */
  extraVectors?: ReadonlyArray<ExtraVectors>;
  /** The chunking the stores' own targets hold (docs/reindex.md "Re-chunking"; default 1): Neo4j's
   * and Qdrant's chunks of it are counted against PostgreSQL's rows of it. */
  chunking?: number;
}

export interface ExtraVectors {
  collection: string;
  store: VectorStore;
  complete: boolean;
  /** The target's chunking (default: VerifyOptions.chunking). Another one is counted against
   * PostgreSQL's rows of it, and a complete target's graph nodes of it are checked too. */
  chunking?: number;
}

const DEFAULT_BATCH = 1_000;

export async function verifyStores(stores: StoreSet, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const max = opts.maxViolations ?? 10_000;
  const batch = opts.batchSize ?? DEFAULT_BATCH;
  const chunking = opts.chunking ?? 1;
  const violations: Violation[] = [];
  const add = (v: Violation): void => {
    if (violations.length < max) violations.push(v);
  };
  // First the derived stores' schema (issue 22): a store that came back empty or without its
  // constraints is reported here, and its reads below still run (an absent collection reads empty).
  for (const store of [stores.neo4j, stores.qdrant, stores.redis]) {
    for (const p of (await store.checkSchema?.()) ?? []) add({ kind: p.kind, store: p.store, docId: '', detail: p.detail });
  }
  let documents = 0;
  let committed = 0;
  for (let after: string | null = null; ; ) {
    const page: DocumentInspection[] = await stores.postgres.inspectDocuments(after, batch, chunking);
    documents += page.length;
    committed += await checkPage(stores, page, add, chunking);
    for (const x of opts.extraVectors ?? []) {
      const k = x.chunking ?? chunking;
      // The same page counted in the target's chunking (verify runs when no saga does).
      const counted = k === chunking ? page : await stores.postgres.inspectDocuments(after, batch, k);
      await checkExtraVectors(x, counted, add, k === chunking ? undefined : { graph: stores.neo4j, chunking: k });
    }
    if (page.length < batch) break;
    after = page[page.length - 1]?.row.id ?? null;
  }
  for (let after: string | null = null; ; ) {
    const held = await stores.postgres.listHeld(after, batch);
    for (const h of held) add({ kind: 'held', store: 'postgres', docId: h.docId, detail: `held by saga ${h.sagaId}, which has not ended` });
    if (held.length < batch) break;
    after = held[held.length - 1]?.docId ?? null;
  }
  const derived = [
    { store: stores.neo4j, label: '' },
    { store: stores.qdrant, label: '' },
    { store: stores.redis, label: '' },
    ...(opts.extraVectors ?? []).map((x) => ({ store: x.store, label: ` (in ${x.collection})` })),
  ];
  for (const { store, label } of derived) {
    // Qdrant and Redis may list an id on several pages: report each orphan once.
    const reported = new Set<string>();
    for (let cursor: string | null = null; ; ) {
      const { docIds, next } = await store.scanDocIds(cursor, batch);
      const fresh = [...new Set(docIds)].filter((id) => !reported.has(id));
      const statuses = await stores.postgres.statusesOf(fresh);
      for (const id of fresh) {
        const status = statuses.get(id);
        if (status === 'committed') continue;
        if (violations.length < max) reported.add(id);
        add({
          kind: 'orphan_data',
          store: store.name,
          docId: id,
          detail: `${status ? `PostgreSQL row is '${status}'` : 'no PostgreSQL row'}${label}`,
        });
      }
      if (next === null) break;
      cursor = next;
    }
  }
  return { documents, committed, violations };
}

/** Checks one page of PostgreSQL documents against the derived stores; returns how many are committed. */
async function checkPage(stores: StoreSet, page: DocumentInspection[], add: (v: Violation) => void, chunking: number): Promise<number> {
  const committed: DocumentInspection[] = [];
  for (const doc of page) {
    const { row } = doc;
    for (const p of doc.pendingVersions)
      add({
        kind: 'leftover_version',
        store: 'postgres',
        docId: row.id,
        detail: `in-flight version ${p.contentSha256} of saga ${p.sagaId}`,
      });
    if (row.ingestionStatus === 'pending' || row.ingestionStatus === 'deleting') {
      add({
        kind: 'not_final',
        store: 'postgres',
        docId: row.id,
        detail: `ingestion_status '${row.ingestionStatus}' (saga ${row.sagaId ?? '?'})`,
      });
    }
    if (row.ingestionStatus === 'committed' && row.contentSha256 !== null) committed.push(doc);
  }
  if (committed.length === 0) return 0;
  const ids = committed.map((d) => d.row.id);
  const [graph, vector, cache] = await Promise.all([
    stores.neo4j.versionsOf(ids),
    stores.qdrant.versionsOf(ids),
    stores.redis.getMany(ids),
  ]);
  // The graph holds every live chunking side by side: this check counts the stores' own one.
  const graphBy = groupByDoc(graph.filter((v) => (v.chunking ?? 1) === chunking));
  const vectorBy = groupByDoc(vector);
  const cacheBy = new Map(cache.map((e) => [e.docId, e]));
  for (const { row, committedChunks: chunks } of committed) {
    const sha = row.contentSha256 ?? '';
    if (chunks === 0) add({ kind: 'missing_version', store: 'postgres', docId: row.id, detail: `no chunks for committed version ${sha}` });
    for (const [store, held] of [
      ['neo4j', graphBy],
      ['qdrant', vectorBy],
    ] as const) {
      const versions = held.get(row.id) ?? [];
      const current = versions.find((v) => v.contentSha256 === sha);
      if (!current) add({ kind: 'missing_version', store, docId: row.id, detail: `committed version ${sha} is absent` });
      else if (current.chunkCount !== chunks) {
        add({ kind: 'chunk_count', store, docId: row.id, detail: `${current.chunkCount} chunks, PostgreSQL has ${chunks}` });
      }
      for (const v of versions) {
        if (v.contentSha256 !== sha) {
          add({
            kind: 'stale_version',
            store,
            docId: row.id,
            detail: `holds version ${v.contentSha256} (${v.chunkCount} chunks)`,
            version: v.contentSha256,
          });
        }
      }
    }
    const cached = cacheBy.get(row.id);
    if (cached && cached.contentSha256 !== sha) {
      add({
        kind: 'cache_stale',
        store: 'redis',
        docId: row.id,
        detail: `cache holds ${cached.contentSha256}`,
        version: cached.contentSha256,
      });
    }
  }
  return committed.length;
}

/** A reindex target during dual writes: the committed version with its chunk count, nothing else. */
async function checkExtraVectors(
  x: ExtraVectors,
  page: DocumentInspection[],
  add: (v: Violation) => void,
  own?: { graph: GraphStore; chunking: number },
): Promise<void> {
  const committed = page.filter((d) => d.row.ingestionStatus === 'committed' && d.row.contentSha256 !== null);
  if (committed.length === 0) return;
  const by = groupByDoc(await x.store.versionsOf(committed.map((d) => d.row.id)));
  if (own && x.complete) {
    // A complete target with a chunking of its own: the graph's nodes of that chunking, too.
    const nodes = groupByDoc(
      (await own.graph.versionsOf(committed.map((d) => d.row.id))).filter((v) => (v.chunking ?? 1) === own.chunking),
    );
    for (const { row, committedChunks } of committed) {
      const n = nodes.get(row.id)?.find((v) => v.contentSha256 === row.contentSha256)?.chunkCount ?? 0;
      if (n !== committedChunks)
        add({
          kind: n === 0 ? 'missing_version' : 'chunk_count',
          store: 'neo4j',
          docId: row.id,
          detail: `${n} chunks of chunking v${own.chunking} (of ${x.collection}), PostgreSQL has ${committedChunks}`,
        });
    }
  }
  for (const { row, committedChunks } of committed) {
    const sha = row.contentSha256 ?? '';
    const versions = by.get(row.id) ?? [];
    const current = versions.find((v) => v.contentSha256 === sha);
    if (!x.complete) {
      // still being built: only what must never be there
    } else if (!current)
      add({ kind: 'missing_version', store: 'qdrant', docId: row.id, detail: `committed version ${sha} is absent from ${x.collection}` });
    else if (current.chunkCount !== committedChunks)
      add({
        kind: 'chunk_count',
        store: 'qdrant',
        docId: row.id,
        detail: `${current.chunkCount} chunks in ${x.collection}, PostgreSQL has ${committedChunks}`,
      });
    for (const v of versions.filter((v) => v.contentSha256 !== sha)) {
      add({
        kind: 'stale_version',
        store: 'qdrant',
        docId: row.id,
        detail: `${x.collection} holds version ${v.contentSha256}`,
        version: v.contentSha256,
      });
    }
  }
}

function groupByDoc(versions: StoredVersion[]): Map<string, StoredVersion[]> {
  const by = new Map<string, StoredVersion[]>();
  for (const v of versions) {
    const list = by.get(v.docId);
    if (list) list.push(v);
    else by.set(v.docId, [v]);
  }
  return by;
}
