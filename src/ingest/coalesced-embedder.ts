// Embedding requests of concurrent sagas, coalesced (issue 18, "Embeddings"): every embed() call
// made while a request is in flight joins the next request, up to the provider's input cap (inputs
// and bytes per request), with identical texts sent once per request. With a real model a request
// costs far more than an input (the bench's fake server: 100 ms + 1 ms per input), so this is
// where the ingest pays.
// The batching rules are the store coalescer's (src/stores/coalesce/coalescer.ts): idle, a call
// goes at once (c=1 never waits, no timer); an abort before the request leaves it; a retryable
// failure of a request fails its members with that error (each step retries by its own policy); a
// permanent one is split, every call sent again alone, so one bad document fails only its own
// saga.
import { Coalescer, type MemberOutcome } from '../stores/coalesce/coalescer.js';
import type { Embedder } from './embedder.js';
import { EmbedderError } from './errors.js';

export const DEFAULT_MAX_INPUTS = 512;
/** UTF-8 bytes of the inputs per request: 512 KiB is ~130k tokens of English, under OpenAI's 300k. */
export const DEFAULT_MAX_BYTES = 512 * 1024;

export interface CoalescedEmbedderOptions {
  /** Inputs per request (the provider's cap; OpenAI allows 2,048). Default 512. */
  maxInputs?: number;
  /** UTF-8 bytes of the inputs per request (the provider's token cap, approximately). Default 512 KiB.
   * A single text larger than this goes alone. */
  maxBytes?: number;
  /** Requests in flight at once. Default 4. */
  maxInFlight?: number;
  /** Told the size of each request sent (bench, tests). */
  onRequest?: (inputs: number) => void;
}

interface Call {
  id: number;
  texts: string[];
}

/** The coalescer caps one size per member; a call's size is its larger share of the two caps, so
 * members that fit together fit both (rounded up: never over either cap). */
const SHARE = 1_000_000;

export class CoalescedEmbedder implements Embedder {
  readonly name: string;
  readonly dimension: number;
  readonly local: boolean | undefined;
  private readonly coalescer: Coalescer<Call, number[][]>;
  private readonly maxInputs: number;
  private readonly maxBytes: number;
  private seq = 0;

  constructor(
    private readonly inner: Embedder,
    opts: CoalescedEmbedderOptions = {},
  ) {
    this.name = inner.name;
    this.dimension = inner.dimension;
    this.local = inner.local;
    this.maxInputs = Math.max(1, opts.maxInputs ?? DEFAULT_MAX_INPUTS);
    this.maxBytes = Math.max(1, opts.maxBytes ?? DEFAULT_MAX_BYTES);
    this.coalescer = new Coalescer<Call, number[][]>({
      send: (calls) => this.send(calls, opts.onRequest),
      keyOf: (c) => String(c.id), // calls never conflict: any two may share a request
      sizeOf: (c) => this.shareOf(c.texts),
      maxBytes: SHARE,
      maxItems: Number.MAX_SAFE_INTEGER,
      maxInFlight: opts.maxInFlight ?? 4,
      abortedError: () => new EmbedderError('EMBED_TRANSIENT', `${inner.name}: aborted before the request was sent`),
    });
  }

  /** Splits a call larger than one request into pieces within the caps; their requests may be shared. */
  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (texts.length === 0) return [];
    const pieces: string[][] = [];
    let piece: string[] = [];
    let bytes = 0;
    for (const t of texts) {
      const b = Buffer.byteLength(t, 'utf8');
      if (piece.length > 0 && (piece.length >= this.maxInputs || bytes + b > this.maxBytes)) {
        pieces.push(piece);
        piece = [];
        bytes = 0;
      }
      piece.push(t);
      bytes += b;
    }
    pieces.push(piece);
    const out = await Promise.all(pieces.map((p) => this.coalescer.submit({ id: this.seq++, texts: p }, signal)));
    return out.flat();
  }

  private shareOf(texts: readonly string[]): number {
    const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
    return Math.max(Math.ceil((texts.length * SHARE) / this.maxInputs), Math.ceil((bytes * SHARE) / this.maxBytes));
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
