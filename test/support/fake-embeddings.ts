// A local OpenAI-compatible embeddings server on 127.0.0.1 (POST /v1/embeddings) for tests and
// benches: answers a deterministic vector per input (from the text's sha256), counts requests and
// inputs, remembers which texts it embedded, and can cost a fixed time per request and per input.
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

export interface FakeEmbeddings {
  url: string;
  dimension: number;
  requests: number;
  inputs: number;
  /** Every input embedded, in arrival order. */
  texts: string[];
  reset(): void;
  close(): Promise<void>;
}

export function fakeVector(text: string, dimension: number): number[] {
  const h = createHash('sha256').update(text, 'utf8').digest();
  return Array.from({ length: dimension }, (_, i) => ((h[i % h.length] ?? 0) + i) / 256);
}

export interface FakeEmbeddingsOptions {
  dimension?: number;
  msPerRequest?: number;
  msPerInput?: number;
  /** Requests served at once (a provider's concurrency limit); the rest wait their turn. Default unlimited. */
  concurrency?: number;
}

export async function startFakeEmbeddings(opts: FakeEmbeddingsOptions = {}): Promise<FakeEmbeddings> {
  const dimension = opts.dimension ?? 16;
  const state = { requests: 0, inputs: 0, texts: [] as string[] };
  const limit = opts.concurrency ?? Number.POSITIVE_INFINITY;
  let serving = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    serving--;
    const next = waiting.shift();
    if (next) next();
  };
  const serve = (work: (done: () => void) => void): void => {
    const start = (): void => {
      serving++;
      work(release);
    };
    if (serving < limit) start();
    else waiting.push(start);
  };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const input = (JSON.parse(body) as { input: string[] }).input;
      state.requests++;
      state.inputs += input.length;
      state.texts.push(...input);
      serve((done) => {
        const reply = (): void => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ data: input.map((t, index) => ({ index, embedding: fakeVector(t, dimension) })) }));
          done();
        };
        const cost = (opts.msPerRequest ?? 0) + (opts.msPerInput ?? 0) * input.length;
        if (cost > 0) setTimeout(reply, cost);
        else reply();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    dimension,
    get requests() {
      return state.requests;
    },
    get inputs() {
      return state.inputs;
    },
    get texts() {
      return state.texts;
    },
    reset() {
      state.requests = 0;
      state.inputs = 0;
      state.texts = [];
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  } as FakeEmbeddings;
}
