// Reads for `get` and `search`: readers only ever see committed versions. Search asks the vector
// store for more hits than needed and drops any that are not the committed version of a
// committed document (a write in flight, or a version being cleaned up).
import type { StoreSet } from '../stores/types.js';
import type { Embedder } from './embedder.js';

export interface DocumentView {
  id: string;
  title: string;
  contentSha256: string;
  metadata: Record<string, unknown>;
  text: string;
  chunks: number;
  entities: string[];
  cached: boolean;
  updatedAt: string;
}

/** `chunking`: the active index record's (docs/reindex.md "Re-chunking"; default 1). */
export async function getDocument(stores: StoreSet, id: string, chunking = 1): Promise<DocumentView | undefined> {
  const row = await stores.postgres.getDocument(id);
  if (!row || row.ingestionStatus !== 'committed' || row.contentSha256 === null) return undefined;
  const sha = row.contentSha256;
  const [chunks, entities, cached] = await Promise.all([
    stores.postgres.getChunks(id, sha, chunking),
    stores.neo4j.entities(id, sha),
    stores.redis.get(id),
  ]);
  return {
    id,
    title: row.title,
    contentSha256: sha,
    metadata: row.metadata,
    text: chunks.map((c) => c.text).join('\n\n'),
    chunks: chunks.length,
    entities,
    cached: cached?.contentSha256 === sha,
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface SearchHit {
  id: string;
  title: string;
  score: number;
  /** The best-matching chunk's text. */
  snippet: string;
  entities: string[];
}

/**
 * Vector search over committed versions. The candidates' chunks are read from PostgreSQL anyway
 * (for snippets and to drop uncommitted versions), so a chunk that contains the query verbatim
 * is ranked first: with the default lexical embedder a long chunk dilutes an exact phrase.
 */
export async function searchDocuments(
  stores: StoreSet,
  embedder: Embedder,
  query: string,
  limit = 5,
  /** The chunking of `stores.qdrant`'s collection (the reader target's): hits name its chunks. */
  chunking = 1,
): Promise<SearchHit[]> {
  const [vector] = await embedder.embed([query]);
  if (!vector) return [];
  const hits = await stores.qdrant.search(vector, Math.max(limit * 8, 40));
  const best = new Map<string, { sha: string; idx: number; score: number }>();
  for (const h of hits) {
    const prev = best.get(h.docId);
    if (!prev || h.score > prev.score) best.set(h.docId, { sha: h.contentSha256, idx: h.idx, score: h.score });
  }
  const needle = normalize(query);
  const scored: Array<SearchHit & { exact: boolean }> = [];
  for (const [id, hit] of best) {
    const row = await stores.postgres.getDocument(id);
    if (!row || row.ingestionStatus !== 'committed' || row.contentSha256 !== hit.sha) continue;
    const chunks = await stores.postgres.getChunks(id, hit.sha, chunking);
    const exactChunk = needle.length > 0 ? chunks.find((c) => normalize(c.text).includes(needle)) : undefined;
    const chunk = exactChunk ?? chunks.find((c) => c.idx === hit.idx);
    const snippet = chunk?.text ?? '';
    scored.push({
      id,
      title: row.title,
      score: hit.score,
      snippet: snippet.length > 240 ? `${snippet.slice(0, 237)}...` : snippet,
      entities: [],
      exact: exactChunk !== undefined,
    });
  }
  scored.sort((a, b) => Number(b.exact) - Number(a.exact) || b.score - a.score);
  const top = scored.slice(0, limit);
  for (const hit of top) {
    const sha = best.get(hit.id)?.sha ?? '';
    hit.entities = await stores.neo4j.entities(hit.id, sha);
  }
  return top.map(({ exact: _exact, ...hit }) => hit);
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}
