// The embedder turns chunk texts into vectors for the vector store. The default, HashingEmbedder,
// is deterministic and offline so that tests, benches and the embedded profile need no model and no
// network; it captures word overlap only, not meaning. OpenAIEmbedder (openai-embedder.ts) calls a
// real model. `embedderFromEnv` picks one from configuration.
import { EmbedderError } from './errors.js';
import { OpenAIEmbedder } from './openai-embedder.js';
import { CoalescedEmbedder, DEFAULT_MAX_BYTES, DEFAULT_MAX_INPUTS } from './coalesced-embedder.js';

export interface Embedder {
  /** Identifies model and dimension, e.g. "hashing-256" or "openai:text-embedding-3-small@api.openai.com". */
  readonly name: string;
  readonly dimension: number;
  /** Computed in this process for less than a cache lookup costs (HashingEmbedder): the embedding
   * cache leaves it alone unless APEX_EMBEDDING_CACHE=all. */
  readonly local?: boolean;
  /** One vector per text, in order, each of length `dimension`. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export const HASHING_DEFAULT_DIMENSION = 256;
const BIGRAM_WEIGHT = 0.5;
const WORD = /[\p{L}\p{N}]+/gu;

/**
 * Feature hashing of lowercased word unigrams and bigrams into `dimension` buckets, with a hash-
 * derived sign so that collisions cancel out on average, then L2-normalized. Lexical only: "car"
 * and "automobile" are unrelated to it. Every vector has norm 1 (text without any word or symbol
 * maps to a fixed unit vector) because cosine similarity is undefined for the zero vector.
 */
export class HashingEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly local = true;

  constructor(dimension: number = HASHING_DEFAULT_DIMENSION) {
    if (!Number.isSafeInteger(dimension) || dimension < 1) {
      throw new EmbedderError('EMBED_CONFIG', `hashing embedder dimension must be a positive integer (got ${String(dimension)})`);
    }
    this.dimension = dimension;
    this.name = `hashing-${dimension}`;
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    return Promise.resolve(texts.map((text) => this.embedOne(text)));
  }

  embedOne(text: string): number[] {
    const vector = new Array<number>(this.dimension).fill(0);
    const lower = text.toLowerCase();
    let words: string[] = lower.match(WORD) ?? [];
    // Text made only of symbols or emoji still deserves a vector that depends on it.
    if (words.length === 0) words = [...lower].filter((ch) => /\S/u.test(ch));
    const addFeature = (feature: string, weight: number): void => {
      const h = fnv1a(feature);
      const bucket = h % this.dimension;
      // The sign comes from bits the bucket did not use, re-mixed, so it is independent of it.
      const sign = (mix(h) & 1) === 0 ? 1 : -1;
      vector[bucket] = (vector[bucket] ?? 0) + sign * weight;
    };
    for (let i = 0; i < words.length; i++) {
      const word = words[i] ?? '';
      addFeature(word, 1);
      const next = words[i + 1];
      if (next !== undefined) addFeature(`${word} ${next}`, BIGRAM_WEIGHT);
    }
    return normalize(vector);
  }
}

/** 32-bit FNV-1a over UTF-16 code units: tiny, fast, stable across platforms and Node versions. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finalizer: spreads every input bit over the output. */
function mix(h: number): number {
  let x = h;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

function normalize(vector: number[]): number[] {
  let sum = 0;
  for (const v of vector) sum += v * v;
  if (sum === 0) {
    // All features cancelled out, or there were none: a fixed unit vector keeps cosine defined.
    const unit = new Array<number>(vector.length).fill(0);
    unit[0] = 1;
    return unit;
  }
  const norm = Math.sqrt(sum);
  return vector.map((v) => v / norm);
}

/** Environment variables that configure the embedder (see docs/documents.md). */
export interface EmbedderEnv {
  EMBEDDER?: string;
  OPENAI_BASE_URL?: string;
  OPENAI_API_KEY?: string;
  EMBEDDING_MODEL?: string;
  EMBEDDING_DIMENSION?: string;
  EMBEDDING_TIMEOUT_MS?: string;
  APEX_EMBEDDING_MAX_INPUTS?: string;
  APEX_EMBEDDING_MAX_BYTES?: string;
  APEX_EMBEDDING_CACHE?: string;
  [key: string]: string | undefined;
}

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const OPENAI_DEFAULT_MODEL = 'text-embedding-3-small';
export const OPENAI_DEFAULT_DIMENSION = 1536;

/**
 * `EMBEDDER` unset or "hashing": HashingEmbedder(EMBEDDING_DIMENSION or 256).
 * "openai": OpenAIEmbedder from OPENAI_BASE_URL, OPENAI_API_KEY, EMBEDDING_MODEL, EMBEDDING_DIMENSION.
 * Throws EmbedderError EMBED_CONFIG on anything else; the message never contains the key.
 */
export function embedderFromEnv(env: EmbedderEnv = process.env): Embedder {
  const kind = (env.EMBEDDER ?? 'hashing').trim().toLowerCase() || 'hashing';
  if (kind === 'hashing') {
    return new HashingEmbedder(positiveInt(env.EMBEDDING_DIMENSION, HASHING_DEFAULT_DIMENSION, 'EMBEDDING_DIMENSION'));
  }
  if (kind === 'openai') {
    const baseUrl = env.OPENAI_BASE_URL?.trim() || OPENAI_DEFAULT_BASE_URL;
    const apiKey = env.OPENAI_API_KEY?.trim() || undefined;
    // The public API always needs a key; local OpenAI-compatible servers often do not.
    if (apiKey === undefined && baseUrl === OPENAI_DEFAULT_BASE_URL) {
      throw new EmbedderError('EMBED_CONFIG', 'EMBEDDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL of a server without auth)');
    }
    const timeout =
      env.EMBEDDING_TIMEOUT_MS === undefined ? {} : { timeoutMs: positiveInt(env.EMBEDDING_TIMEOUT_MS, 0, 'EMBEDDING_TIMEOUT_MS') };
    const model = new OpenAIEmbedder({
      baseUrl,
      ...(apiKey === undefined ? {} : { apiKey }),
      model: env.EMBEDDING_MODEL?.trim() || OPENAI_DEFAULT_MODEL,
      dimension: positiveInt(env.EMBEDDING_DIMENSION, OPENAI_DEFAULT_DIMENSION, 'EMBEDDING_DIMENSION'),
      ...timeout,
    });
    // Concurrent sagas' chunks share requests (coalesced-embedder.ts), within the provider's caps;
    // APEX_STORE_COALESCE=off sends one request per call, as before (bench comparisons).
    const caps = {
      maxInputs: positiveInt(env.APEX_EMBEDDING_MAX_INPUTS, DEFAULT_MAX_INPUTS, 'APEX_EMBEDDING_MAX_INPUTS', MAX_INPUTS_LIMIT),
      maxBytes: positiveInt(env.APEX_EMBEDDING_MAX_BYTES, DEFAULT_MAX_BYTES, 'APEX_EMBEDDING_MAX_BYTES', MAX_BYTES_LIMIT),
    };
    return env.APEX_STORE_COALESCE?.trim().toLowerCase() === 'off' ? model : new CoalescedEmbedder(model, caps);
  }
  throw new EmbedderError('EMBED_CONFIG', `EMBEDDER must be "hashing" or "openai" (got "${kind.slice(0, 40)}")`);
}

const MAX_INPUTS_LIMIT = 100_000;
const MAX_BYTES_LIMIT = 64 * 1024 * 1024;

function positiveInt(value: string | undefined, fallback: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined || value.trim() === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? 'a positive integer' : `an integer from 1 to ${max}`;
    throw new EmbedderError('EMBED_CONFIG', `${name} must be ${range} (got "${value.slice(0, 40)}")`);
  }
  return n;
}

export type EmbeddingCacheMode = 'on' | 'off' | 'all';

/**
 * APEX_EMBEDDING_CACHE: `on` (default) caches the vectors of every embedder but a local one (the
 * hashing embedder computes a vector for less than a lookup costs), `all` caches those too,
 * `off` neither reads nor stores (a delete still forgets what is cached). Whether `embedder`'s
 * vectors go through the cache.
 */
export function embeddingCacheFromEnv(env: EmbedderEnv, embedder: Embedder): boolean {
  return embeddingCachePolicy(env)(embedder);
}

/**
 * The same choice for any embedder: during a reindex the other targets' embedders are not the
 * process's own (a hashing deployment moving to a paid model must cache the paid model's vectors).
 */
export function embeddingCachePolicy(env: EmbedderEnv): (embedder: Embedder) => boolean {
  const raw = (env.APEX_EMBEDDING_CACHE ?? 'on').trim().toLowerCase() || 'on';
  if (raw !== 'on' && raw !== 'off' && raw !== 'all') {
    throw new EmbedderError('EMBED_CONFIG', `APEX_EMBEDDING_CACHE must be "on", "off" or "all" (got "${raw.slice(0, 40)}")`);
  }
  const mode: EmbeddingCacheMode = raw;
  return (embedder) => mode === 'all' || (mode === 'on' && embedder.local !== true);
}
