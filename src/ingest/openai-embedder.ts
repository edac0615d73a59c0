// Embeddings from an OpenAI-compatible server: `POST {baseUrl}/embeddings` with `{model, input}`
// (OpenAI, Azure-style proxies, vLLM, Ollama, LiteLLM, ...). Uses the global fetch, so no client
// library is needed. Failures are classified for the saga engine's retry policy: 408/429/5xx,
// timeouts and connection errors are EMBED_TRANSIENT; other 4xx and malformed answers are
// EMBED_PERMANENT. The API key goes into the Authorization header only and is scrubbed from any
// text we quote back from the server.
import { z } from 'zod';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './errors.js';

export interface OpenAIEmbedderOptions {
  /** e.g. "https://api.openai.com/v1" or "http://127.0.0.1:11434/v1". */
  baseUrl: string;
  apiKey?: string;
  model: string;
  /** Expected vector length; a response of another length is rejected. */
  dimension: number;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_QUOTED_BODY = 200;

const responseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

export class OpenAIEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  private readonly url: string;
  private readonly apiKey: string | undefined;
  private readonly model: string;
  private readonly timeoutMs: number;

  constructor(options: OpenAIEmbedderOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new EmbedderError('EMBED_CONFIG', 'OPENAI_BASE_URL is not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new EmbedderError('EMBED_CONFIG', `OPENAI_BASE_URL must be http(s) (got ${parsed.protocol})`);
    }
    // fetch refuses URLs with credentials, and they would end up in names and logs: use the key.
    if (parsed.username !== '' || parsed.password !== '') {
      throw new EmbedderError('EMBED_CONFIG', 'OPENAI_BASE_URL must not contain credentials; put the key in OPENAI_API_KEY');
    }
    if (!Number.isSafeInteger(options.dimension) || options.dimension < 1) {
      throw new EmbedderError('EMBED_CONFIG', 'EMBEDDING_DIMENSION must be a positive integer');
    }
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
    this.apiKey = options.apiKey;
    this.model = options.model;
    this.dimension = options.dimension;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Host only: the path and query of a base URL are noise in logs and metrics labels.
    this.name = `openai:${options.model}@${parsed.host}`;
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (texts.length === 0) return [];
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    let response: Response;
    let body: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(this.apiKey === undefined ? {} : { authorization: `Bearer ${this.apiKey}` }),
        },
        body: JSON.stringify({ model: this.model, input: texts }),
        signal: combined,
      });
      body = await response.text();
    } catch (err) {
      // The caller's abort is theirs to interpret (the saga engine aborts siblings); pass it on.
      if (signal?.aborted) throw signal.reason;
      if (timeout.aborted) {
        throw new EmbedderError('EMBED_TRANSIENT', `embeddings request timed out after ${this.timeoutMs} ms (${this.name})`, {
          cause: err,
        });
      }
      const reason = err instanceof Error ? this.scrub(err.message) : 'unknown error';
      throw new EmbedderError('EMBED_TRANSIENT', `embeddings request failed: ${reason} (${this.name})`, { cause: err });
    }

    if (!response.ok) throw this.httpError(response, body);
    return this.parse(body, texts.length);
  }

  private httpError(response: Response, body: string): EmbedderError {
    const status = response.status;
    const transient = status === 408 || status === 429 || status >= 500;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const quoted = this.scrub(body.slice(0, MAX_QUOTED_BODY)).replace(/\s+/g, ' ').trim();
    return new EmbedderError(
      transient ? 'EMBED_TRANSIENT' : 'EMBED_PERMANENT',
      `embeddings request failed with HTTP ${status} (${this.name})${quoted ? `: ${quoted}` : ''}`,
      { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
    );
  }

  private parse(body: string, expected: number): number[][] {
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new EmbedderError('EMBED_PERMANENT', `embeddings response is not JSON (${this.name})`);
    }
    const parsed = responseSchema.safeParse(json);
    if (!parsed.success) throw new EmbedderError('EMBED_PERMANENT', `embeddings response has an unexpected shape (${this.name})`);
    const vectors = new Array<number[] | undefined>(expected).fill(undefined);
    for (const item of parsed.data.data) {
      if (item.index >= expected || vectors[item.index] !== undefined) {
        throw new EmbedderError('EMBED_PERMANENT', `embeddings response has an unexpected index ${item.index} (${this.name})`);
      }
      if (item.embedding.length !== this.dimension) {
        throw new EmbedderError(
          'EMBED_PERMANENT',
          `embedding dimension ${item.embedding.length} does not match EMBEDDING_DIMENSION ${this.dimension} (${this.name})`,
        );
      }
      vectors[item.index] = item.embedding;
    }
    const result: number[][] = [];
    for (const v of vectors) {
      if (v === undefined)
        throw new EmbedderError(
          'EMBED_PERMANENT',
          `embeddings response returned ${parsed.data.data.length} of ${expected} vectors (${this.name})`,
        );
      result.push(v);
    }
    return result;
  }

  private scrub(text: string): string {
    return this.apiKey ? text.split(this.apiKey).join('***') : text;
  }
}

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function parseRetryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
