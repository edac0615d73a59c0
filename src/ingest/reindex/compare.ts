// Compares one vector target with PostgreSQL (docs/reindex.md): what `reindex --verify` reports
// and what the reindex loop works through. Streams like verify (src/ingest/verify.ts): pages of
// PostgreSQL's documents with one batched read of the target each, then the target's own ids
// against PostgreSQL's statuses (data of documents that are not committed).
import type { GraphStore, StoreSet, VectorStore } from '../../stores/types.js';

export type TargetProblemKind = 'missing' | 'chunk_count' | 'stale_version' | 'orphan' | 'dimension';

export interface TargetProblem {
  docId: string;
  kind: TargetProblemKind;
  detail: string;
}

export interface TargetComparison {
  /** Committed documents in PostgreSQL. */
  committed: number;
  /** Committed documents whose current version is in the target with the right chunk count and
   * nothing else. */
  current: number;
  problems: TargetProblem[];
}

const PAGE = 500;

/** Every committed document's current version, and nothing else, in `target` (bounded memory). */
export async function compareTarget(
  stores: StoreSet,
  target: VectorStore,
  opts: {
    dimension?: number;
    collection?: string;
    maxProblems?: number;
    /** The target's chunking: PostgreSQL's chunks of it are counted (default 1). */
    chunking?: number;
    /** A re-chunking target: the graph must hold the same chunks of its chunking too. */
    graph?: GraphStore;
  } = {},
): Promise<TargetComparison> {
  const chunking = opts.chunking ?? 1;
  const max = opts.maxProblems ?? 100_000;
  const problems: TargetProblem[] = [];
  const add = (p: TargetProblem): void => {
    if (problems.length < max) problems.push(p);
  };
  if (opts.dimension !== undefined && opts.collection !== undefined) {
    const info = (await target.listCollections()).find((c) => c.name === opts.collection);
    if (!info) add({ docId: '', kind: 'dimension', detail: `collection ${opts.collection} does not exist` });
    else if (info.dimension !== opts.dimension) {
      add({
        docId: '',
        kind: 'dimension',
        detail: `collection ${opts.collection} has dimension ${info.dimension}, expected ${opts.dimension}`,
      });
    }
  }
  let committed = 0;
  let current = 0;
  for (let after: string | null = null; ; ) {
    const page = await stores.postgres.inspectDocuments(after, PAGE, chunking);
    const live = page.filter((d) => d.row.ingestionStatus === 'committed' && d.row.contentSha256 !== null);
    const held = await target.versionsOf(live.map((d) => d.row.id));
    const graphBy = new Map<string, number>();
    if (opts.graph) {
      for (const v of await opts.graph.versionsOf(live.map((d) => d.row.id)))
        if ((v.chunking ?? 1) === chunking) graphBy.set(`${v.docId}\u0000${v.contentSha256}`, v.chunkCount);
    }
    const by = new Map<string, Array<{ sha: string; chunks: number }>>();
    for (const v of held) by.set(v.docId, [...(by.get(v.docId) ?? []), { sha: v.contentSha256, chunks: v.chunkCount }]);
    for (const d of live) {
      committed++;
      const sha = d.row.contentSha256 ?? '';
      const nodes = opts.graph ? (graphBy.get(`${d.row.id}\u0000${sha}`) ?? 0) : undefined;
      const found = docProblems(d.row.id, sha, d.committedChunks, by.get(d.row.id) ?? [], nodes, chunking);
      found.forEach(add);
      if (found.length === 0) current++;
    }
    if (page.length < PAGE) break;
    after = page[page.length - 1]?.row.id ?? null;
  }
  const seen = new Set<string>();
  for (let cursor: string | null = null; ; ) {
    const { docIds, next } = await target.scanDocIds(cursor, PAGE);
    const fresh = [...new Set(docIds)].filter((id) => !seen.has(id));
    fresh.forEach((id) => seen.add(id));
    const statuses = await stores.postgres.statusesOf(fresh);
    for (const id of fresh) {
      const status = statuses.get(id);
      if (status !== 'committed')
        add({ docId: id, kind: 'orphan', detail: status ? `PostgreSQL row is '${status}'` : 'no PostgreSQL row' });
    }
    if (next === null) break;
    cursor = next;
  }
  return { committed, current, problems };
}

/** What is wrong in a target with one committed document (none: current). `nodes`: the graph's
 * chunks of the target's chunking, for a re-chunking target (undefined: not compared). */
function docProblems(
  docId: string,
  sha: string,
  committedChunks: number,
  versions: ReadonlyArray<{ sha: string; chunks: number }>,
  nodes: number | undefined,
  chunking: number,
): TargetProblem[] {
  const out: TargetProblem[] = [];
  const mine = versions.find((v) => v.sha === sha);
  if (!mine) out.push({ docId, kind: 'missing', detail: `committed version ${sha} is absent` });
  else if (mine.chunks !== committedChunks)
    out.push({ docId, kind: 'chunk_count', detail: `${mine.chunks} vectors, PostgreSQL has ${committedChunks} chunks` });
  else if (nodes !== undefined && nodes !== committedChunks)
    out.push({
      docId,
      kind: 'chunk_count',
      detail: `Neo4j has ${nodes} chunks of chunking v${chunking}, PostgreSQL has ${committedChunks}`,
    });
  for (const v of versions) {
    if (v.sha !== sha) out.push({ docId, kind: 'stale_version', detail: `holds version ${v.sha} (${v.chunks} vectors)` });
  }
  return out;
}

/**
 * The same comparison for a few documents only (by id): what `--switch` checks again once the
 * sagas that held them ended (switch-gate.ts). A document that is not committed is an orphan
 * when the target has points of it.
 */
export async function compareDocuments(
  stores: StoreSet,
  target: VectorStore,
  docIds: readonly string[],
  opts: { chunking?: number; graph?: GraphStore } = {},
): Promise<TargetProblem[]> {
  const chunking = opts.chunking ?? 1;
  const ids = [...new Set(docIds)];
  const by = new Map<string, Array<{ sha: string; chunks: number }>>();
  for (const v of await target.versionsOf(ids))
    by.set(v.docId, [...(by.get(v.docId) ?? []), { sha: v.contentSha256, chunks: v.chunkCount }]);
  const graph = opts.graph ? await opts.graph.versionsOf(ids) : [];
  const problems: TargetProblem[] = [];
  for (const id of ids) {
    const row = await stores.postgres.getDocument(id);
    const versions = by.get(id) ?? [];
    if (row?.ingestionStatus !== 'committed' || row.contentSha256 === null) {
      if (versions.length > 0)
        problems.push({ docId: id, kind: 'orphan', detail: row ? `PostgreSQL row is '${row.ingestionStatus}'` : 'no PostgreSQL row' });
      continue;
    }
    const sha = row.contentSha256;
    const chunks = (await stores.postgres.getChunks(id, sha, chunking)).length;
    const nodes = opts.graph
      ? (graph.find((v) => v.docId === id && v.contentSha256 === sha && (v.chunking ?? 1) === chunking)?.chunkCount ?? 0)
      : undefined;
    problems.push(...docProblems(id, sha, chunks, versions, nodes, chunking));
  }
  return problems;
}
