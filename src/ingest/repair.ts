// `apex-memory repair`: fixes what `verify` finds in the derived stores, from PostgreSQL (the
// system of record). Data of a document that is not committed, or of a version that is not the
// committed one, is removed; a committed version missing (or incomplete) in Neo4j or Qdrant is
// written again; a stale cache entry is replaced. PostgreSQL-side findings (a row left 'pending',
// an in-flight version) belong to a saga and are left to `sagas recover` / `sagas retry`.
//
// Why it exists: a Qdrant upsert cannot be made conditional on a fencing token, so a worker that
// stalls past its lease can leave orphan points after the new owner compensated (docs/fleet.md).
// It must run while no saga is in flight: a write in progress looks exactly like orphan data.
import type { StoreSet, WriteContext } from '../stores/types.js';
import type { Embedder } from './embedder.js';
import { versionFromChunks } from './sagas/version.js';
import { verifyStores, type VerifyReport, type Violation } from './verify.js';

export interface RepairAction {
  violation: Violation;
  /** What was (or, in a dry run, would be) done; or why it was left alone. */
  action: string;
  done: boolean;
}

export interface RepairReport {
  before: VerifyReport;
  actions: RepairAction[];
  /** Verify again after repairing (absent in a dry run). */
  after?: VerifyReport;
}

/** Repairs are writes of their own, fenced under this pseudo-saga (token 0 never beats a real owner). */
const REPAIR_CTX: WriteContext = { sagaId: 'apex-repair', fencingToken: 0 };

export async function repairStores(stores: StoreSet, embedder: Embedder, opts: { dryRun: boolean }): Promise<RepairReport> {
  const before = await verifyStores(stores);
  const actions: RepairAction[] = [];
  for (const v of before.violations) {
    const plan = planFor(stores, embedder, v);
    if (!plan) {
      actions.push({ violation: v, action: 'left alone: PostgreSQL state of a saga (finish it with `sagas recover` or `sagas retry`)', done: false });
      continue;
    }
    if (!opts.dryRun) await plan.run();
    actions.push({ violation: v, action: plan.what, done: !opts.dryRun });
  }
  if (opts.dryRun) return { before, actions };
  return { before, actions, after: await verifyStores(stores) };
}

function planFor(stores: StoreSet, embedder: Embedder, v: Violation): { what: string; run: () => Promise<void> } | undefined {
  const id = v.docId;
  switch (v.kind) {
    case 'orphan_data':
      if (v.store === 'neo4j') return { what: 'remove the document from Neo4j', run: () => stores.neo4j.removeDocument(id) };
      if (v.store === 'qdrant') return { what: 'remove the document\'s points from Qdrant', run: () => stores.qdrant.removeDocument(id) };
      if (v.store === 'redis') return { what: 'remove the cache entry', run: () => stores.redis.remove(id, null) };
      return undefined;
    case 'stale_version': {
      const sha = v.version;
      if (!sha) return undefined;
      if (v.store === 'neo4j') return { what: `remove version ${sha} from Neo4j`, run: () => stores.neo4j.removeVersion(id, sha) };
      if (v.store === 'qdrant') return { what: `remove version ${sha} from Qdrant`, run: () => stores.qdrant.removeVersion(id, sha) };
      return undefined;
    }
    case 'missing_version':
    case 'chunk_count':
      if (v.store === 'neo4j') return { what: 'write the committed version to Neo4j again', run: () => rewrite(stores, embedder, id, 'neo4j') };
      if (v.store === 'qdrant') return { what: 'write the committed version to Qdrant again', run: () => rewrite(stores, embedder, id, 'qdrant') };
      return undefined;
    case 'cache_stale':
      return { what: 'replace the cache entry with the committed version', run: () => recache(stores, id) };
    case 'not_final':
    case 'leftover_version':
    case 'held':
      return undefined;
  }
}

async function committedVersion(stores: StoreSet, embedder: Embedder | undefined, docId: string) {
  const row = await stores.postgres.getDocument(docId);
  if (!row || row.ingestionStatus !== 'committed' || row.contentSha256 === null) return undefined;
  const chunks = await stores.postgres.getChunks(docId, row.contentSha256);
  const texts = chunks.map((c) => c.text);
  return versionFromChunks(docId, row.title, row.contentSha256, row.metadata, texts, embedder ? { embedder } : {});
}

async function rewrite(stores: StoreSet, embedder: Embedder, docId: string, store: 'neo4j' | 'qdrant'): Promise<void> {
  const v = await committedVersion(stores, store === 'qdrant' ? embedder : undefined, docId);
  if (!v) return;
  if (store === 'neo4j') await stores.neo4j.writeVersion(v, REPAIR_CTX);
  else await stores.qdrant.upsertVersion(v, REPAIR_CTX);
}

async function recache(stores: StoreSet, docId: string): Promise<void> {
  const v = await committedVersion(stores, undefined, docId);
  if (!v) return stores.redis.remove(docId, null);
  const entry = { docId, title: v.title, contentSha256: v.contentSha256, chunkCount: v.chunks.length, metadata: v.metadata };
  await stores.redis.put(entry, REPAIR_CTX);
}
