// What the ingest, update and delete sagas carry in their (logged) input, and how a step turns
// it back into the DocumentVersion a store writes. The input references the document (its
// content is staged in PostgreSQL: content.ts, docs/erasure.md) and holds no embeddings: chunks
// and entities are cheap and deterministic, so each step recomputes them, and only the vector
// step pays for embeddings. That keeps the saga log small.
import type { DocumentVersion } from '../../stores/types.js';
import { chunkText } from '../chunk.js';
import type { Embedder } from '../embedder.js';
import { extractEntities } from '../entities.js';
import { EmbedderError } from '../errors.js';
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
  signal?: AbortSignal;
}

const EMBED_BATCH = 64;

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
  const embeddings = opts.embedder ? await embedAll(opts.embedder, texts, opts.signal) : [];
  return {
    docId,
    title,
    contentSha256: sha,
    metadata,
    chunks: texts.map((text, idx) => ({ idx, text, entities: extractEntities(text), embedding: embeddings[idx] ?? [] })),
  };
}

async function embedAll(embedder: Embedder, texts: string[], signal?: AbortSignal): Promise<number[][]> {
  const out: number[][] = [];
  for (let i = 0; i < texts.length; i += EMBED_BATCH) {
    const batch = texts.slice(i, i + EMBED_BATCH);
    const vectors = await embedder.embed(batch, signal);
    if (vectors.length !== batch.length) {
      throw new EmbedderError('EMBED_PERMANENT', `${embedder.name} returned ${vectors.length} vectors for ${batch.length} texts`);
    }
    out.push(...vectors);
  }
  return out;
}
