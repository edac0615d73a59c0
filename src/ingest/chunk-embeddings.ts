// The vectors of a version's chunks, as the qdrant_write step (and the delete saga's rewrite of
// the committed version) needs them: from the persistent embedding cache when the same chunk text
// was embedded before under the same model and dimension, from the embedder otherwise, and the
// new ones stored. So a retry, a resume or an update's unchanged chunks never pay the model again
// (issue 18, "Embeddings"; docs/stores.md "Embedding cache").
//
// The cache is the small EmbeddingCacheStore interface (src/stores/types.ts), which the relational
// store implements: this file imports no driver. Every lookup records the version's use of the
// hashes first, so a concurrent forget (another document's delete) keeps them.
import { createHash } from 'node:crypto';
import type { EmbeddingCacheStore, EmbeddingUse } from '../stores/types.js';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './errors.js';

export interface ChunkEmbeddingOptions {
  signal?: AbortSignal;
  /** The cache and the version asking (without: every text is embedded). */
  cache?: { store: EmbeddingCacheStore; use: EmbeddingUse };
}

/** Texts per embed() call. The coalescing embedder splits again at the provider's cap. */
export const EMBED_CALL_TEXTS = 64;

/** sha256 (hex) of a chunk's text as UTF-8: the cache key beside the model and dimension. */
export function textSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** One vector per text, in order, each checked against the embedder's dimension. */
export async function embedChunks(embedder: Embedder, texts: readonly string[], opts: ChunkEmbeddingOptions = {}): Promise<number[][]> {
  if (texts.length === 0) return [];
  if (!opts.cache) return embedTexts(embedder, texts, opts.signal);
  const { store, use } = opts.cache;
  const model = { model: embedder.name, dimension: embedder.dimension };
  const hashes = texts.map(textSha256);
  const cached = await store.lookupEmbeddings(use, model, hashes);
  // A cached vector of the wrong shape (a hand-edited table) is a miss, re-embedded and kept as is.
  const usable = (v: number[] | undefined): v is number[] => v !== undefined && isVector(v, embedder.dimension);
  const missing = new Map<string, string>();
  hashes.forEach((h, i) => {
    if (!usable(cached.get(h)) && !missing.has(h)) missing.set(h, texts[i] ?? '');
  });
  if (missing.size > 0) {
    const vectors = await embedTexts(embedder, [...missing.values()], opts.signal);
    const fresh = [...missing.keys()].map((h, i) => ({ textSha256: h, embedding: vectors[i] ?? [] }));
    await store.putEmbeddings(use, model, fresh);
    for (const f of fresh) cached.set(f.textSha256, f.embedding);
  }
  return hashes.map((h) => cached.get(h) ?? []);
}

/** Calls of at most EMBED_CALL_TEXTS texts, all at once (a coalescing embedder joins them into
 * as few requests as its cap allows; a plain one sends them side by side). */
async function embedTexts(embedder: Embedder, texts: readonly string[], signal?: AbortSignal): Promise<number[][]> {
  const calls: Array<Promise<number[][]>> = [];
  for (let i = 0; i < texts.length; i += EMBED_CALL_TEXTS) {
    const batch = texts.slice(i, i + EMBED_CALL_TEXTS);
    calls.push(
      embedder.embed(batch, signal).then((vectors) => {
        if (vectors.length !== batch.length) {
          throw new EmbedderError('EMBED_PERMANENT', `${embedder.name} returned ${vectors.length} vectors for ${batch.length} texts`);
        }
        return vectors;
      }),
    );
  }
  return (await Promise.all(calls)).flat();
}

function isVector(v: readonly number[], dimension: number): boolean {
  return v.length === dimension && v.every(Number.isFinite);
}
