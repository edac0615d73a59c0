// The body reader: a streamed body without Content-Length is cut off at the limit (413), invalid
// UTF-8 and malformed JSON get their own codes, and a body within the limit parses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { readJsonBody } from '../../src/http/body.js';
import { problemResponse, toProblem } from '../../src/http/problem.js';

function app(limit: number): Hono {
  const h = new Hono();
  h.onError((err, c) => {
    const p = toProblem(err);
    return problemResponse(c, p.status, p.code, p.detail, p.extensions);
  });
  h.post('/', async (c) => c.json({ got: await readJsonBody(c, limit) }));
  return h;
}

function stream(chunks: Uint8Array[], onPull?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      onPull?.();
      const next = chunks[i++];
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
}

const post = (body: string | ReadableStream<Uint8Array>, type = 'application/json'): RequestInit & { duplex: 'half' } => ({
  method: 'POST',
  headers: { 'content-type': type },
  body,
  duplex: 'half',
});

test('a streamed body without Content-Length stops at the limit: 413, the rest is never read', async () => {
  let pulls = 0;
  const chunk = new Uint8Array(1024).fill(0x20);
  const chunks = Array.from({ length: 100 }, () => chunk);
  const res = await app(4096).request('/', post(stream(chunks, () => pulls++)));
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { code: string }).code, 'HTTP_BODY_TOO_LARGE');
  assert.ok(pulls < 10, `read ${pulls} chunks of 100`);
});

test('codes for invalid UTF-8, malformed JSON, other media types; a good body parses', async () => {
  const a = app(4096);
  const bad = await a.request('/', post(stream([new Uint8Array([0x7b, 0x22, 0xff, 0x22, 0x7d])])));
  assert.equal(((await bad.json()) as { code: string }).code, 'HTTP_INVALID_UTF8');
  const split = new TextEncoder().encode('{"t":"é"}');
  const ok = await a.request('/', post(stream([split.slice(0, 7), split.slice(7)])));
  assert.deepEqual(await ok.json(), { got: { t: 'é' } }, 'a character split across chunks is fine');
  const malformed = await a.request('/', post('{"t":'));
  assert.equal(((await malformed.json()) as { code: string }).code, 'HTTP_MALFORMED_JSON');
  const typed = await a.request('/', post('{}', 'application/merge-patch+json'));
  assert.equal(typed.status, 200, '+json media types are JSON');
  const form = await a.request('/', post('a=1', 'application/x-www-form-urlencoded'));
  assert.equal(((await form.json()) as { code: string }).code, 'HTTP_UNSUPPORTED_MEDIA_TYPE');
});
