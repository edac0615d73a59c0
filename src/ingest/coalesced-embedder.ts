// Embedding requests of concurrent sagas, coalesced (issue 18, "Embeddings"): every embed() call
// made while a request is in flight joins the next request, up to the provider's input cap, with
// identical texts sent once per request. With a real model a request costs far more than an input
// (the bench's fake server: 100 ms + 1 ms per input), so this is where the ingest pays.
// The batching rules are the store coalescer's (src/stores/coalesce/coalescer.ts): idle, a call
// goes at once (c=1 never waits); an abort before the request leaves it; a retryable failure of a
// request fails its members (each step retries); a permanent one is split so one bad input fails
// only its own saga.
import { Coalescer, type MemberOutcome } from '../stores/coalesce/coalescer.js';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './errors.js';

export interface CoalescedEmbedderOptions {
  /** Inputs per request (the provider's cap; OpenAI allows 2,048). Default 512. */
  maxInputs?: number;
  /** Requests in flight at once. Default 4. */
  maxInFlight?: number;
  /** Told the size of each request sent (bench, tests). */
  onRequest?: (inputs: number) => void;
}

interface Call {
  id: number;
  texts: string[];
}

export class CoalescedEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  private readonly coalescer: Coalescer<Call, number[][]>;
  private seq = 0;

  constructor(
    private readonly inner: Embedder,
    opts: CoalescedEmbedderOptions = {},
  ) {
    this.name = inner.name;
    this.dimension = inner.dimension;
    this.coalescer = new Coalescer<Call, number[][]>({
      send: (calls) => this.send(calls, opts.onRequest),
      keyOf: (c) => String(c.id), // calls never conflict: any two may share a request
      sizeOf: (c) => c.texts.length,
      maxBytes: opts.maxInputs ?? 512, // the "bytes" cap counts inputs here
      maxItems: Number.MAX_SAFE_INTEGER,
      maxInFlight: opts.maxInFlight ?? 4,
      abortedError: () => new EmbedderError('EMBED_TRANSIENT', `${inner.name}: aborted before the request was sent`),
    });
  }

  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (texts.length === 0) return Promise.resolve([]);
    return this.coalescer.submit({ id: this.seq++, texts }, signal);
  }

  private async send(calls: readonly Call[], onRequest?: (inputs: number) => void): Promise<Array<MemberOutcome<number[][]>>> {
    const unique = [...new Set(calls.flatMap((c) => c.texts))];
    onRequest?.(unique.length);
    // No signal: the request is shared; a started call is awaited (as a store call is).
    const vectors = await this.inner.embed(unique);
    if (vectors.length !== unique.length) {
      throw new EmbedderError('EMBED_PERMANENT', `${this.inner.name} returned ${vectors.length} vectors for ${unique.length} texts`);
    }
    const byText = new Map(unique.map((t, i) => [t, vectors[i] ?? []]));
    return calls.map((c) => ({ ok: true, value: c.texts.map((t) => byText.get(t) ?? []) }));
  }
}
