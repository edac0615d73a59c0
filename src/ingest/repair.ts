// `apex-memory repair`: fixes what `verify` finds in the derived stores, from PostgreSQL (the
// system of record). Data of a document that is not committed, or of a version that is not the
// committed one, is removed; a committed version missing (or incomplete) in Neo4j or Qdrant is
// written again; a stale cache entry is replaced. PostgreSQL-side findings (a row left 'pending',
// an in-flight version) belong to a saga and are left to `sagas recover` / `sagas retry`.
//
// Why it exists: a Qdrant upsert cannot be made conditional on a fencing token, so a worker that
// stalls past its lease can leave orphan points after the new owner compensated (docs/fleet.md).
//
// It never races a saga: each document is repaired under RelationalStore.whileFree, which runs
// only while no saga holds the document and keeps every saga out until the repair returns. What
// the repair needs from PostgreSQL (the committed version and its chunks, embedded) is read
// before; inside, the row passed in must still be the one read, or the document is left for the
// next run (a saga changed it meanwhile, and its own steps keep the stores in agreement).
import type { DocumentRow, DocumentVersion, StoreSet, WriteContext } from '../stores/types.js';
import type { Embedder } from './embedder.js';
import { versionFromChunks } from './sagas/version.js';
import { isSchemaViolation, verifyStores, type VerifyReport, type Violation } from './verify.js';

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

const LEFT_TO_SAGAS = 'left alone: PostgreSQL state of a saga (finish it with `sagas recover` or `sagas retry`)';

interface Plan {
  what: string;
  /** Needs the committed version (read before the document is taken). */
  needs?: 'neo4j' | 'qdrant' | 'redis';
  run: (committed: DocumentVersion | undefined) => Promise<void>;
}

export async function repairStores(
  stores: StoreSet,
  embedder: Embedder,
  /** `chunking`: the one the stores' own targets hold (verify's; default 1): rewrites use its rows. */
  opts: { dryRun: boolean; chunking?: number },
): Promise<RepairReport> {
  const chunking = opts.chunking ?? 1;
  const before = await verifyStores(stores, { chunking });
  const actions: RepairAction[] = [];
  // The schema first (merging duplicate nodes, recreating constraints, collections): the
  // per-document repairs below write through it.
  const schema = before.violations.filter(isSchemaViolation);
  for (const store of [stores.neo4j, stores.qdrant, stores.redis]) {
    const found = schema.filter((v) => v.store === store.name);
    if (found.length === 0 || !store.repairSchema) continue;
    if (opts.dryRun) {
      for (const v of found) actions.push({ violation: v, action: `merge duplicates, create the ${store.name} schema again`, done: false });
      continue;
    }
    const did = await store.repairSchema();
    const what = did.length > 0 ? `${did.join('; ')}; schema created again` : 'schema created again';
    for (const v of found) actions.push({ violation: v, action: what, done: true });
  }
  // Grouped per document: one whileFree per document, its violations repaired in verify's order.
  const byDoc = new Map<string, Violation[]>();
  for (const v of before.violations) {
    if (isSchemaViolation(v)) continue;
    const list = byDoc.get(v.docId);
    if (list) list.push(v);
    else byDoc.set(v.docId, [v]);
  }
  for (const [docId, found] of byDoc) {
    const planned = found.map((v) => ({ v, plan: planFor(stores, v) }));
    for (const { v, plan } of planned) if (!plan) actions.push({ violation: v, action: LEFT_TO_SAGAS, done: false });
    const todo = planned.flatMap(({ v, plan }) => (plan ? [{ v, plan }] : []));
    if (todo.length === 0) continue;
    if (opts.dryRun) {
      for (const { v, plan } of todo) actions.push({ violation: v, action: plan.what, done: false });
      continue;
    }
    actions.push(...(await repairDocument(stores, embedder, docId, todo, chunking)));
  }
  if (opts.dryRun) return { before, actions };
  return { before, actions, after: await verifyStores(stores, { chunking }) };
}

async function repairDocument(
  stores: StoreSet,
  embedder: Embedder,
  docId: string,
  todo: Array<{ v: Violation; plan: Plan }>,
  chunking: number,
): Promise<RepairAction[]> {
  const snapshot = await stores.postgres.getDocument(docId);
  const needsEmbedding = todo.some(({ plan }) => plan.needs === 'qdrant');
  const committed = todo.some(({ plan }) => plan.needs)
    ? await committedVersion(stores, needsEmbedding ? embedder : undefined, snapshot, chunking)
    : undefined;
  const r = await stores.postgres.whileFree(docId, async (row) => {
    if (!sameState(snapshot, row)) return false;
    for (const { plan } of todo) await plan.run(committed);
    return true;
  });
  if (!r.free)
    return todo.map(({ v }) => ({
      violation: v,
      action: `left alone: saga ${r.holder} holds the document (run repair again once it ends)`,
      done: false,
    }));
  if (!r.value)
    return todo.map(({ v }) => ({
      violation: v,
      action: 'left alone: a saga changed the document meanwhile (run verify again)',
      done: false,
    }));
  return todo.map(({ v, plan }) => ({ violation: v, action: plan.what, done: true }));
}

/** The row as read before the repair is still the row under the lock (no saga wrote in between). */
function sameState(a: DocumentRow | undefined, b: DocumentRow | undefined): boolean {
  if (!a || !b) return a === b;
  return a.ingestionStatus === b.ingestionStatus && a.contentSha256 === b.contentSha256 && a.updatedAt.getTime() === b.updatedAt.getTime();
}

function planFor(stores: StoreSet, v: Violation): Plan | undefined {
  const id = v.docId;
  switch (v.kind) {
    case 'orphan_data':
      if (v.store === 'neo4j') return { what: 'remove the document from Neo4j', run: () => stores.neo4j.removeDocument(id) };
      if (v.store === 'qdrant') return { what: "remove the document's points from Qdrant", run: () => stores.qdrant.removeDocument(id) };
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
      if (v.store === 'neo4j')
        return {
          what: 'write the committed version to Neo4j again',
          needs: 'neo4j',
          run: async (c) => {
            if (c) await stores.neo4j.writeVersion(c, REPAIR_CTX);
          },
        };
      if (v.store === 'qdrant')
        return {
          what: 'write the committed version to Qdrant again',
          needs: 'qdrant',
          run: async (c) => {
            if (c) await stores.qdrant.writeVersion(c, REPAIR_CTX);
          },
        };
      return undefined;
    case 'cache_stale':
      return {
        what: 'replace the cache entry with the committed version',
        needs: 'redis',
        run: async (c) => {
          if (!c) return stores.redis.remove(id, null);
          await stores.redis.put(
            { docId: id, title: c.title, contentSha256: c.contentSha256, chunkCount: c.chunks.length, metadata: c.metadata },
            REPAIR_CTX,
          );
        },
      };
    case 'not_final':
    case 'leftover_version':
    case 'held':
    case 'schema_missing':
    case 'duplicate_node':
      return undefined;
  }
}

async function committedVersion(
  stores: StoreSet,
  embedder: Embedder | undefined,
  row: DocumentRow | undefined,
  chunking: number,
): Promise<DocumentVersion | undefined> {
  if (!row || row.ingestionStatus !== 'committed' || row.contentSha256 === null) return undefined;
  const chunks = await stores.postgres.getChunks(row.id, row.contentSha256, chunking);
  const texts = chunks.map((c) => c.text);
  return versionFromChunks(row.id, row.title, row.contentSha256, row.metadata, texts, { chunking, ...(embedder ? { embedder } : {}) });
}
