// Input limits for documents. They exist so that one hostile or broken input cannot exhaust memory
// or produce an object a store will refuse later (after other stores already accepted it).
// Every limit can be overridden per call through a partial `IngestLimits` object.

export const MAX_ID_CHARS = 256;
export const MAX_TITLE_CHARS = 512;
/** 1 MiB of UTF-8 text per document. */
export const MAX_TEXT_BYTES = 1024 * 1024;
/** Nesting depth of metadata: the metadata object itself is depth 1. */
export const MAX_METADATA_DEPTH = 4;
export const MAX_METADATA_KEYS = 64;
/** 16 KiB of serialized metadata (JSON.stringify, UTF-8 bytes). */
export const MAX_METADATA_BYTES = 16 * 1024;
/** One JSONL line may carry escaped text (\uXXXX is 6 bytes per character), so it gets more room than the text. */
export const MAX_JSONL_LINE_BYTES = 8 * 1024 * 1024;

export const CHUNK_TARGET_CHARS = 800;
export const CHUNK_MAX_CHARS = 1200;
export const MAX_CHUNKS_PER_DOCUMENT = 2048;
export const MAX_ENTITIES_PER_CHUNK = 32;

export interface IngestLimits {
  maxIdChars: number;
  maxTitleChars: number;
  maxTextBytes: number;
  maxMetadataDepth: number;
  maxMetadataKeys: number;
  maxMetadataBytes: number;
  maxJsonlLineBytes: number;
  chunkTargetChars: number;
  chunkMaxChars: number;
  maxChunksPerDocument: number;
  maxEntitiesPerChunk: number;
}

export const DEFAULT_LIMITS: Readonly<IngestLimits> = Object.freeze({
  maxIdChars: MAX_ID_CHARS,
  maxTitleChars: MAX_TITLE_CHARS,
  maxTextBytes: MAX_TEXT_BYTES,
  maxMetadataDepth: MAX_METADATA_DEPTH,
  maxMetadataKeys: MAX_METADATA_KEYS,
  maxMetadataBytes: MAX_METADATA_BYTES,
  maxJsonlLineBytes: MAX_JSONL_LINE_BYTES,
  chunkTargetChars: CHUNK_TARGET_CHARS,
  chunkMaxChars: CHUNK_MAX_CHARS,
  maxChunksPerDocument: MAX_CHUNKS_PER_DOCUMENT,
  maxEntitiesPerChunk: MAX_ENTITIES_PER_CHUNK,
});

/** Defaults with `overrides` applied; rejects nonsense (non-positive, target above max). */
export function resolveLimits(overrides?: Partial<IngestLimits>): IngestLimits {
  const limits: IngestLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides ?? {})) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new RangeError(`unknown ingest limit "${key}"`);
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`ingest limit ${key} must be a positive integer (got ${String(value)})`);
    limits[key as keyof IngestLimits] = value;
  }
  if (limits.chunkTargetChars > limits.chunkMaxChars) {
    throw new RangeError(`chunkTargetChars (${limits.chunkTargetChars}) must not exceed chunkMaxChars (${limits.chunkMaxChars})`);
  }
  // A chunk must be able to hold a surrogate pair whole.
  if (limits.chunkMaxChars < 2) throw new RangeError('chunkMaxChars must be at least 2');
  return limits;
}
