// Reads a JSON request body under the server's limits. Why not hono's c.req.json(): it reads an
// unbounded body and turns malformed JSON and invalid UTF-8 into the same plain-text 400. Here each
// bad input gets its own problem code, and nothing past the limit is buffered.
import type { Context } from 'hono';
import { HttpProblem } from './problem.js';

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export async function readJsonBody(c: Context, maxBytes: number): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  const mediaType = type.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]*\+json$/.test(mediaType)) {
    throw new HttpProblem(415, 'HTTP_UNSUPPORTED_MEDIA_TYPE', `expected Content-Type application/json, got "${type || 'none'}"`);
  }
  const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpProblem(415, 'HTTP_UNSUPPORTED_MEDIA_TYPE', `only UTF-8 JSON is accepted (charset ${charset})`);
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes, declared);
  const bytes = await readLimited(c.req.raw.body, maxBytes);
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new HttpProblem(400, 'HTTP_INVALID_UTF8', 'the request body is not valid UTF-8');
  }
  if (text.trim() === '') throw new HttpProblem(400, 'HTTP_MALFORMED_JSON', 'the request body is empty; a JSON object was expected');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpProblem(
      400,
      'HTTP_MALFORMED_JSON',
      `the request body is not valid JSON: ${err instanceof Error ? err.message : 'parse error'}`,
    );
  }
}

/** Reads the stream and stops (with 413) as soon as it passes `maxBytes`. */
async function readLimited(stream: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (stream === null) return new Uint8Array(0);
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, total);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number, got: number): HttpProblem {
  return new HttpProblem(413, 'HTTP_BODY_TOO_LARGE', `the request body is larger than ${maxBytes} bytes`, { limit: maxBytes, got });
}
