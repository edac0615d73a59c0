// Turns a validated document into the DocumentVersion the ingest saga writes: content hash,
// chunks, entities per chunk, one embedding per chunk. Pure apart from the embedder call, so the
// same document always yields the same version (and the same store ids).
import { createHash } from 'node:crypto';
import type { Chunk, DocumentVersion } from '../stores/types.js';
import { chunkText } from './chunk.js';
import type { Embedder } from './embedder.js';
import { extractEntities } from './entities.js';
import { EmbedderError } from './errors.js';
import { resolveLimits, type IngestLimits } from './limits.js';
import type { ValidDocument } from './schema.js';

export interface PrepareOptions {
  signal?: AbortSignal;
  /** Texts per embedder call. Default 64: small enough for any OpenAI-compatible server's limits. */
  batchSize?: number;
  limits?: Partial<IngestLimits>;
  /** For error messages ("docs.jsonl:17"). */
  source?: string;
}

const DEFAULT_BATCH_SIZE = 64;
// Bumped if the hashed encoding ever changes, so old and new hashes can never collide by accident.
const CONTENT_HASH_VERSION = 1;

/**
 * sha256 (hex) of the canonical content: title, text and metadata (keys sorted at every level).
 * A change to any of the three is a new version; key order in the metadata is not a change.
 * Hashed as one JSON array, so no two different (title, text) pairs can encode to the same bytes.
 */
export function contentSha256(doc: Pick<ValidDocument, 'title' | 'text' | 'metadata'>): string {
  const canonical = JSON.stringify([CONTENT_HASH_VERSION, doc.title, doc.text, sortKeys(doc.metadata)]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** JSON text with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

/**
 * The version of `doc` to write. Throws DocumentError when the text needs too many chunks, and
 * whatever the embedder throws (EmbedderError EMBED_TRANSIENT / EMBED_PERMANENT) otherwise.
 */
export async function prepareDocument(doc: ValidDocument, embedder: Embedder, options: PrepareOptions = {}): Promise<DocumentVersion> {
  const limits = resolveLimits(options.limits);
  const texts = chunkText(doc.text, { ...limits, ...(options.source === undefined ? {} : { source: options.source }) });
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  const embeddings: number[][] = [];
  for (let start = 0; start < texts.length; start += batchSize) {
    const batch = texts.slice(start, start + batchSize);
    const vectors = await embedder.embed(batch, options.signal);
    if (vectors.length !== batch.length) {
      throw new EmbedderError('EMBED_PERMANENT', `${embedder.name} returned ${vectors.length} vectors for ${batch.length} texts`);
    }
    for (const v of vectors) {
      if (v.length !== embedder.dimension || !v.every(Number.isFinite)) {
        throw new EmbedderError(
          'EMBED_PERMANENT',
          `${embedder.name} returned a vector of length ${v.length} (expected ${embedder.dimension} finite numbers)`,
        );
      }
      embeddings.push(v);
    }
  }
  const chunks: Chunk[] = texts.map((text, idx) => ({
    idx,
    text,
    entities: extractEntities(text, limits.maxEntitiesPerChunk),
    embedding: embeddings[idx] ?? [],
  }));
  return {
    docId: doc.id,
    title: doc.title,
    contentSha256: contentSha256(doc),
    metadata: doc.metadata,
    chunks,
  };
}
