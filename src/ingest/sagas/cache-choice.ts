// Whether an embedder's vectors go through the embedding cache (APEX_EMBEDDING_CACHE, embedder.ts):
// decided per embedder, not once per process, because a reindex's dual writes and reindex sagas
// embed with each target's own embedder (a hashing deployment moving to a paid model caches the
// paid model's vectors, and only those).
import type { Embedder } from '../embedder.js';
import type { EmbeddingCacheStore } from '../../stores/types.js';

export interface CacheChoice {
  /** The process's own embedder's choice (older callers, tests). */
  cacheEmbeddings?: boolean;
  /** The choice for any embedder; wins over `cacheEmbeddings` when given. */
  cacheFor?: (embedder: Embedder) => boolean;
}

/** `{ embeddingCache }` when `embedder`'s vectors go through the cache, else nothing. */
export function cacheOption(choice: CacheChoice, embedder: Embedder, store: EmbeddingCacheStore): { embeddingCache?: EmbeddingCacheStore } {
  const on = choice.cacheFor ? choice.cacheFor(embedder) : choice.cacheEmbeddings === true;
  return on ? { embeddingCache: store } : {};
}
