// The OpenAI-compatible embedder against a tiny local server on 127.0.0.1 (never a real API call).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenAIEmbedder } from '../../src/ingest/openai-embedder.js';
import { EmbedderError } from '../../src/ingest/errors.js';

const KEY = 'sk-test-key-do-not-leak';
type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler = (_req, _body, res) => res.end();
const seen: Array<{ method: string; url: string; auth: string | undefined; body: string }> = [];

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
    handler(req, body, res);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
after(() => {
  server.closeAllConnections();
  server.close();
});

const embedder = (options: Partial<ConstructorParameters<typeof OpenAIEmbedder>[0]> = {}): OpenAIEmbedder =>
  new OpenAIEmbedder({ baseUrl, apiKey: KEY, model: 'test-model', dimension: 3, timeoutMs: 2000, ...options });

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
}

async function rejection(promise: Promise<unknown>): Promise<EmbedderError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof EmbedderError, `expected EmbedderError, got ${String(err)}`);
    assert.ok(!err.message.includes(KEY), `the key leaked: ${err.message}`);
    return err;
  }
  assert.fail('expected a rejection');
}

test('success: POST {baseUrl}/embeddings with model, input and bearer key; vectors in input order', async () => {
  seen.length = 0;
  handler = (_req, body, res) => {
    const { input } = JSON.parse(body) as { input: string[] };
    // Answer out of order: the client must place vectors by `index`.
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index, 1] })).reverse();
    json(res, 200, { object: 'list', data, model: 'test-model', usage: { prompt_tokens: 1, total_tokens: 1 } });
  };
  const vectors = await embedder().embed(['a', 'bb', 'ccc']);
  assert.deepEqual(vectors, [
    [1, 0, 1],
    [2, 1, 1],
    [3, 2, 1],
  ]);
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0] && { method: seen[0].method, url: seen[0].url, auth: seen[0].auth }, {
    method: 'POST',
    url: '/v1/embeddings',
    auth: `Bearer ${KEY}`,
  });
  assert.deepEqual(JSON.parse(seen[0]?.body ?? '{}'), { model: 'test-model', input: ['a', 'bb', 'ccc'] });
  assert.deepEqual(await embedder().embed([]), [], 'no request for no texts');
  assert.equal(seen.length, 1);
});

test('429 is transient (with Retry-After) and the quoted body never shows the key', async () => {
  handler = (_req, _body, res) => json(res, 429, { error: { message: `Rate limit for key ${KEY}` } }, { 'retry-after': '2' });
  const err = await rejection(embedder().embed(['x']));
  assert.equal(err.code, 'EMBED_TRANSIENT');
  assert.equal(err.retryable, true);
  assert.equal(err.status, 429);
  assert.equal(err.retryAfterMs, 2000);
  assert.match(err.message, /HTTP 429/);
  assert.match(err.message, /\*\*\*/);
});

test('5xx is transient', async () => {
  handler = (_req, _body, res) => json(res, 503, { error: 'overloaded' });
  const err = await rejection(embedder().embed(['x']));
  assert.equal(err.code, 'EMBED_TRANSIENT');
  assert.equal(err.status, 503);
});

test('400 and 401 are permanent', async () => {
  for (const status of [400, 401]) {
    handler = (_req, _body, res) => json(res, status, { error: { message: 'bad request' } });
    const err = await rejection(embedder().embed(['x']));
    assert.equal(err.code, 'EMBED_PERMANENT', `HTTP ${status}`);
    assert.equal(err.retryable, false);
    assert.equal(err.status, status);
  }
});

test('malformed answers are permanent: not JSON, wrong shape, wrong dimension, missing vectors', async () => {
  const answers: Array<[string, (res: ServerResponse) => void, RegExp]> = [
    ['not json', (res) => res.end('<html>'), /not JSON/],
    ['wrong shape', (res) => json(res, 200, { data: 'nope' }), /unexpected shape/],
    [
      'wrong dimension',
      (res) => json(res, 200, { data: [{ index: 0, embedding: [1, 2] }] }),
      /dimension 2 does not match EMBEDDING_DIMENSION 3/,
    ],
    ['missing vector', (res) => json(res, 200, { data: [{ index: 0, embedding: [1, 2, 3] }] }), /returned 1 of 2 vectors/],
    [
      'duplicate index',
      (res) =>
        json(res, 200, {
          data: [
            { index: 0, embedding: [1, 2, 3] },
            { index: 0, embedding: [1, 2, 3] },
          ],
        }),
      /unexpected index/,
    ],
  ];
  for (const [name, answer, pattern] of answers) {
    handler = (_req, _body, res) => answer(res);
    const err = await rejection(embedder().embed(['x', 'y']));
    assert.equal(err.code, 'EMBED_PERMANENT', name);
    assert.match(err.message, pattern, name);
  }
});

test('a server that never answers times out as transient', async () => {
  handler = () => {
    /* hold the request open: closeAllConnections() ends it after the test */
  };
  const err = await rejection(embedder({ timeoutMs: 150 }).embed(['x']));
  assert.equal(err.code, 'EMBED_TRANSIENT');
  assert.match(err.message, /timed out after 150 ms/);
});

test("the caller's abort is passed on as the caller's reason, not classified", async () => {
  handler = () => {};
  const controller = new AbortController();
  const reason = new Error('saga aborted');
  const pending = embedder().embed(['x'], controller.signal);
  setTimeout(() => controller.abort(reason), 20);
  await assert.rejects(pending, (err: unknown) => err === reason);
});

test('connection refused is transient', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const err = await rejection(
    new OpenAIEmbedder({ baseUrl: `http://127.0.0.1:${port}`, apiKey: KEY, model: 'm', dimension: 3 }).embed(['x']),
  );
  assert.equal(err.code, 'EMBED_TRANSIENT');
});
