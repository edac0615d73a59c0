// `verify --erased <id>` and GET /v1/documents/{id}/erasure (docs/erasure.md): looks in every
// store and in the saga log for anything a deleted document left, by its id and by the content
// hashes its sagas logged, and reports per store. The receipt names the delete saga that erased
// it (table erasures) and when. Kept on purpose, and reported as `kept`, never as a trace: write
// fences (ids and tokens: they refuse a stalled owner's late write), the erasure record itself,
// and the ids and hashes in the saga log (audit), until retention prunes those sagas.
import { MAX_PAGE, type SagaLogBackend, type StoredSaga } from '../saga/index.js';
import type { StoreSet, VectorStore } from '../stores/types.js';

export type ErasureScope = 'postgres' | 'neo4j' | 'qdrant' | 'redis' | 'saga_log';

export interface ErasureCheck {
  store: ErasureScope;
  backend: string;
  /** true: nothing of the document's content; false: traces below; null: could not check. */
  clean: boolean | null;
  traces: string[];
  kept: string[];
  error?: string;
}

export interface ErasureReceipt {
  docId: string;
  /** true only when every store was checked and none holds a trace. */
  erased: boolean;
  checkedAt: string;
  /** The delete saga that erased the document (null: no erasure on record). */
  deleteSaga: { sagaId: string; status: string | null; completedAt: string | null; recordedAt: string } | null;
  stores: ErasureCheck[];
}

export interface ErasureOptions {
  /** Sagas of each definition the log scan loads (it has no index by document; default 10,000). */
  logScanLimit?: number;
  /** The other vector collections of a reindex in progress (dual writes, docs/reindex.md): checked too. */
  extraVectors?: ReadonlyArray<{ collection: string; store: VectorStore }>;
}

const SAGA_NAMES = ['ingest', 'ingest_adr', 'delete'];

export async function checkErasure(
  stores: StoreSet,
  log: SagaLogBackend,
  docId: string,
  opts: ErasureOptions = {},
): Promise<ErasureReceipt> {
  const record = await stores.postgres.erasureOf(docId).catch(() => undefined);
  const deleteSaga = record ? await log.load(record.sagaId) : undefined;
  const checks = await Promise.all([
    check('postgres', stores.postgres.backend, async (c) => {
      const t = await stores.postgres.tracesOf(docId);
      if (t.documents > 0) c.traces.push('documents: the document row');
      if (t.versions > 0) c.traces.push(`document_versions: ${t.versions} version(s) in flight`);
      if (t.chunks > 0) c.traces.push(`chunks: ${t.chunks} chunk(s)`);
      if (t.staged > 0) {
        const refs = await stores.postgres.listStaged({ docId }, 20);
        c.traces.push(
          `saga_inputs: staged content of ${t.staged} saga(s) (${refs.map((r) => r.sagaId).join(', ')}): not ended yet, or not swept`,
        );
      }
      // The embedding cache (docs/stores.md "Embedding cache"): an entry lives only while a use
      // names it, so no use of the document means no vector of its text that another document
      // does not also hold.
      if (t.embeddings > 0) c.traces.push(`embedding_uses: cached embeddings of ${t.embeddings} chunk(s) kept for it`);
      if (t.fences > 0) c.kept.push(`write_fences: ${t.fences} (ids and fencing tokens only)`);
      if (record) c.kept.push(`erasures: the erasure record (ids only)`);
    }),
    check('neo4j', stores.neo4j.backend, async (c) => {
      for (const v of await stores.neo4j.listVersions(docId)) c.traces.push(`${v.chunkCount} chunk(s) of version ${v.contentSha256}`);
    }),
    check('qdrant', stores.qdrant.backend, async (c) => {
      for (const v of await stores.qdrant.listVersions(docId)) c.traces.push(`${v.chunkCount} point(s) of version ${v.contentSha256}`);
      for (const x of opts.extraVectors ?? []) {
        for (const v of await x.store.listVersions(docId)) {
          c.traces.push(`${v.chunkCount} point(s) of version ${v.contentSha256} in ${x.collection} (reindex target)`);
        }
      }
    }),
    check('redis', stores.redis.backend, async (c) => {
      const e = await stores.redis.get(docId);
      if (e) c.traces.push(`cache entry of version ${e.contentSha256}`);
    }),
    check('saga_log', 'saga log', (c) => scanLog(log, docId, c, opts.logScanLimit ?? 10_000)),
  ]);
  return {
    docId,
    erased: checks.every((c) => c.clean === true),
    checkedAt: new Date().toISOString(),
    deleteSaga: record
      ? {
          sagaId: record.sagaId,
          status: deleteSaga?.status ?? null,
          completedAt: deleteSaga?.status === 'completed' ? new Date(deleteSaga.updatedAt).toISOString() : null,
          recordedAt: record.erasedAt.toISOString(),
        }
      : null,
    stores: checks,
  };
}

async function check(store: ErasureScope, backend: string, work: (c: ErasureCheck) => Promise<void>): Promise<ErasureCheck> {
  const c: ErasureCheck = { store, backend, clean: null, traces: [], kept: [] };
  try {
    await work(c);
    c.clean = c.traces.length === 0;
  } catch (err) {
    c.error = err instanceof Error ? err.message : String(err);
  }
  return c;
}

/** The document's sagas in the log: content inline (older logs) or a saga not ended is a trace. */
async function scanLog(log: SagaLogBackend, docId: string, c: ErasureCheck, limit: number): Promise<void> {
  let scanned = 0;
  let mine = 0;
  let complete = true;
  for (const name of SAGA_NAMES) {
    // The document's own sagas from the log's key index (the writer sets key = document id); a
    // saga logged before keys existed has none and is not found here (docs/erasure.md).
    const page = await log.list({ name, key: docId }, { limit: Math.min(limit, MAX_PAGE) });
    if (page.next !== null) complete = false;
    for (const summary of page.sagas) {
      scanned++;
      const saga = await log.load(summary.sagaId);
      if (!saga || docIdOf(saga.input) !== docId) continue;
      mine++;
      const inline = inlineContent(saga);
      if (inline.length > 0)
        c.traces.push(
          `saga ${saga.sagaId} (${saga.name}, ${saga.status}) holds content inline: ${inline.join(', ')} (logged before content by reference; \`sagas prune\` removes it once ended)`,
        );
      if (saga.status !== 'completed' && saga.status !== 'compensated')
        c.traces.push(`saga ${saga.sagaId} (${saga.name}) has not ended (${saga.status})`);
    }
  }
  if (mine > 0) c.kept.push(`ids and content hashes in ${mine} saga(s) (audit; removed by retention: sagas prune)`);
  c.kept.push(`scanned ${scanned} saga(s)${complete ? '' : ` (limit ${limit} per definition reached: older sagas not checked)`}`);
  if (!complete) c.traces.push(`the scan stopped at ${limit} sagas per definition: raise --log-scan-limit`);
}

function docIdOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const i = input as { doc?: { id?: unknown }; docId?: unknown };
  if (typeof i.docId === 'string') return i.docId;
  return typeof i.doc?.id === 'string' ? i.doc.id : undefined;
}

/** Which content fields a saga's input or step outputs carry (older logs: doc, title, metadata). */
function inlineContent(saga: StoredSaga): string[] {
  const found = new Set<string>();
  const look = (v: unknown, where: string): void => {
    if (typeof v !== 'object' || v === null) return;
    const o = v as Record<string, unknown>;
    if (typeof o.doc === 'object' && o.doc !== null) found.add(`${where}.doc`);
    for (const k of ['text', 'title', 'metadata']) if (k in o) found.add(`${where}.${k}`);
  };
  look(saga.input, 'input');
  for (const r of saga.records) if (r.type === 'step_succeeded') look(r.output, `output of ${r.step}`);
  return [...found];
}
