// What the ingest, update and delete sagas carry in their (logged) input, and how a step turns
// it back into the DocumentVersion a store writes. The input references the document (its
// content is staged in PostgreSQL: content.ts, docs/erasure.md) and holds no embeddings: chunks
// and entities are cheap and deterministic, so each step recomputes them, and only the vector
// step pays for embeddings. That keeps the saga log small.
import type { DocumentVersion, EmbeddingCacheStore } from '../../stores/types.js';
import { chunkText } from '../chunk.js';
import { embedChunks } from '../chunk-embeddings.js';
import type { Embedder } from '../embedder.js';
import { extractEntities } from '../entities.js';
import type { IngestLimits } from '../limits.js';
import type { ValidDocument } from '../schema.js';

export type { IngestInput } from './content.js';

export interface DeleteInput {
  docId: string;
  /** The committed version being deleted (its compensations rebuild it from PostgreSQL);
   * null for a document that never committed (nothing to restore). */
  sha: string | null;
  /** Logs written before content by reference only; new delete sagas log ids and hashes
   * (the compensations read title and metadata from PostgreSQL's row). */
  title?: string;
  metadata?: Record<string, unknown>;
}

export interface VersionOptions {
  limits?: Partial<IngestLimits>;
  embedder?: Embedder;
  /** The embedding cache (chunk-embeddings.ts): vectors of chunks embedded before are not paid again. */
  embeddingCache?: EmbeddingCacheStore;
  signal?: AbortSignal;
  /** The chunking `limits` cut (DocumentVersion.chunking; absent: 1). */
  chunking?: number;
}

/** The version to write; with an embedder, chunks carry their embeddings (else empty vectors). */
export async function versionOf(doc: ValidDocument, sha: string, opts: VersionOptions = {}): Promise<DocumentVersion> {
  const texts = chunkText(doc.text, opts.limits ?? {});
  return versionFromChunks(doc.id, doc.title, sha, doc.metadata, texts, opts);
}

export async function versionFromChunks(
  docId: string,
  title: string,
  sha: string,
  metadata: Record<string, unknown>,
  texts: string[],
  opts: VersionOptions = {},
): Promise<DocumentVersion> {
  const cache = opts.embeddingCache ? { store: opts.embeddingCache, use: { docId, contentSha256: sha } } : undefined;
  const embeddings = opts.embedder
    ? await embedChunks(opts.embedder, texts, { ...(opts.signal ? { signal: opts.signal } : {}), ...(cache ? { cache } : {}) })
    : [];
  return {
    docId,
    title,
    contentSha256: sha,
    metadata,
    chunks: texts.map((text, idx) => ({ idx, text, entities: extractEntities(text), embedding: embeddings[idx] ?? [] })),
    ...(opts.chunking !== undefined && opts.chunking !== 1 ? { chunking: opts.chunking } : {}),
  };
}
