// `apex-memory verify`: checks the design's invariant across the four stores and reports every
// violation. Once no saga is running:
//  - a document has data in Neo4j, Qdrant or Redis only if its PostgreSQL row is 'committed',
//    and only for its current version;
//  - a committed document has all of its current chunks in Neo4j and Qdrant (and PostgreSQL);
//  - no row is left 'pending' or 'deleting', no in-flight version is left behind, and no document
//    is still held by a saga (document_locks).
import type { StoreName, StoreSet, DocumentRow } from '../stores/types.js';

export type ViolationKind =
  | 'orphan_data' // data in a derived store for a document that is not committed in PostgreSQL
  | 'stale_version' // a derived store holds a version other than the committed one
  | 'missing_version' // a committed document's current version is absent from a store
  | 'chunk_count' // the current version is there with the wrong number of chunks
  | 'cache_stale' // the Redis entry names another version
  | 'not_final' // a PostgreSQL row left 'pending' or 'deleting'
  | 'leftover_version' // an in-flight version row left in PostgreSQL
  | 'held'; // a document still held by a saga (single-writer rule): that saga has not ended

export interface Violation {
  kind: ViolationKind;
  store: StoreName;
  docId: string;
  detail: string;
  /** The version concerned, where there is one (stale_version, cache_stale). */
  version?: string;
}

export interface VerifyReport {
  documents: number;
  committed: number;
  violations: Violation[];
}

const PAGE = 500;

export async function verifyStores(stores: StoreSet, opts: { maxViolations?: number } = {}): Promise<VerifyReport> {
  const max = opts.maxViolations ?? 10_000;
  const violations: Violation[] = [];
  const add = (v: Violation): void => {
    if (violations.length < max) violations.push(v);
  };
  const rows = new Map<string, DocumentRow>();
  for (let after: string | null = null; ; ) {
    const page = await stores.postgres.listDocuments(after, PAGE);
    for (const r of page) rows.set(r.id, r);
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.id ?? null;
  }
  let committed = 0;
  for (const row of rows.values()) {
    const pending = await stores.postgres.getPendingVersions(row.id);
    for (const p of pending) add({ kind: 'leftover_version', store: 'postgres', docId: row.id, detail: `in-flight version ${p.contentSha256} of saga ${p.sagaId}` });
    if (row.ingestionStatus === 'pending' || row.ingestionStatus === 'deleting') {
      add({ kind: 'not_final', store: 'postgres', docId: row.id, detail: `ingestion_status '${row.ingestionStatus}' (saga ${row.sagaId ?? '?'})` });
    }
    if (row.ingestionStatus !== 'committed' || row.contentSha256 === null) continue;
    committed++;
    const sha = row.contentSha256;
    const chunks = (await stores.postgres.getChunks(row.id, sha)).length;
    if (chunks === 0) add({ kind: 'missing_version', store: 'postgres', docId: row.id, detail: `no chunks for committed version ${sha}` });
    for (const store of [stores.neo4j, stores.qdrant]) {
      const versions = await store.listVersions(row.id);
      const current = versions.find((v) => v.contentSha256 === sha);
      if (!current) add({ kind: 'missing_version', store: store.name, docId: row.id, detail: `committed version ${sha} is absent` });
      else if (current.chunkCount !== chunks) {
        add({ kind: 'chunk_count', store: store.name, docId: row.id, detail: `${current.chunkCount} chunks, PostgreSQL has ${chunks}` });
      }
      for (const v of versions) {
        if (v.contentSha256 !== sha) {
          add({ kind: 'stale_version', store: store.name, docId: row.id, detail: `holds version ${v.contentSha256} (${v.chunkCount} chunks)`, version: v.contentSha256 });
        }
      }
    }
    const cached = await stores.redis.get(row.id);
    if (cached && cached.contentSha256 !== sha) {
      add({ kind: 'cache_stale', store: 'redis', docId: row.id, detail: `cache holds ${cached.contentSha256}`, version: cached.contentSha256 });
    }
  }
  for (let after: string | null = null; ; ) {
    const held = await stores.postgres.listHeld(after, PAGE);
    for (const h of held) add({ kind: 'held', store: 'postgres', docId: h.docId, detail: `held by saga ${h.sagaId}, which has not ended` });
    if (held.length < PAGE) break;
    after = held[held.length - 1]?.docId ?? null;
  }
  const isCommitted = (id: string): boolean => rows.get(id)?.ingestionStatus === 'committed';
  for (const store of [stores.neo4j, stores.qdrant, stores.redis]) {
    for (let after: string | null = null; ; ) {
      const ids: string[] = await store.listDocIds(after, PAGE);
      for (const id of ids) {
        if (!isCommitted(id)) {
          const row = rows.get(id);
          add({ kind: 'orphan_data', store: store.name, docId: id, detail: row ? `PostgreSQL row is '${row.ingestionStatus}'` : 'no PostgreSQL row' });
        }
      }
      if (ids.length < PAGE) break;
      after = ids[ids.length - 1] ?? null;
    }
  }
  return { documents: rows.size, committed, violations };
}
