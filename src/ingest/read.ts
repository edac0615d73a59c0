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

export async function getDocument(stores: StoreSet, id: string): Promise<DocumentView | undefined> {
  const row = await stores.postgres.getDocument(id);
  if (!row || row.ingestionStatus !== 'committed' || row.contentSha256 === null) return undefined;
  const sha = row.contentSha256;
  const [chunks, entities, cached] = await Promise.all([
    stores.postgres.getChunks(id, sha),
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

export async function searchDocuments(stores: StoreSet, embedder: Embedder, query: string, limit = 5): Promise<SearchHit[]> {
  const [vector] = await embedder.embed([query]);
  if (!vector) return [];
  const hits = await stores.qdrant.search(vector, Math.max(limit * 4, 20));
  const best = new Map<string, { sha: string; idx: number; score: number }>();
  for (const h of hits) {
    const prev = best.get(h.docId);
    if (!prev || h.score > prev.score) best.set(h.docId, { sha: h.contentSha256, idx: h.idx, score: h.score });
  }
  const out: SearchHit[] = [];
  for (const [id, hit] of [...best.entries()].sort((a, b) => b[1].score - a[1].score)) {
    if (out.length >= limit) break;
    const row = await stores.postgres.getDocument(id);
    if (!row || row.ingestionStatus !== 'committed' || row.contentSha256 !== hit.sha) continue;
    const [chunks, entities] = await Promise.all([stores.postgres.getChunks(id, hit.sha), stores.neo4j.entities(id, hit.sha)]);
    const snippet = chunks.find((c) => c.idx === hit.idx)?.text ?? '';
    out.push({ id, title: row.title, score: hit.score, snippet: snippet.length > 240 ? `${snippet.slice(0, 237)}...` : snippet, entities });
  }
  return out;
}
