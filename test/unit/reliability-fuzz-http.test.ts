// Hostile input against the HTTP API (fast-check, embedded app in process, 64 KB body limit):
// random JSON, random bytes (invalid UTF-8), deep nesting, bodies past the limit, control
// characters and injection strings in ids, titles and metadata, wrong content types; hostile ids
// on the document and saga routes (/v1/sagas/{id}, retry, cancel, bulk-retry). Each request
// gets either a success or a 4xx problem (application/problem+json with a stable code), never a
// 5xx; a refused request leaves every store and the saga log exactly as they were; an accepted
// document reads back with its id and title verbatim; the API still answers /healthz afterwards
// and verify reports 0. Replay with FUZZ_SEED=<seed>; FUZZ_RUNS or RELIABILITY_SCALE for more.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyStores } from '../../src/ingest/verify.js';
import { openHttpHarness, type HttpHarness } from '../support/http-harness.js';
import { reliabilityScale, writeResult } from '../support/sim-results.js';

const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const runs = Number(process.env.FUZZ_RUNS ?? Math.round(150 * reliabilityScale()));
const LIMIT = 64 * 1024;
let h: HttpHarness;
const tally = { requests: 0, accepted: 0, refused: 0, sagaRequests: 0, codes: {} as Record<string, number> };

before(async () => {
  console.log(`http fuzz: FUZZ_SEED=${seed} FUZZ_RUNS=${runs}`);
  h = await openHttpHarness({ maxBodyBytes: LIMIT });
});
after(async () => {
  writeResult('fuzz-http', { seed, runs, ...tally });
  await h.close();
});

const INJECTIONS = [
  "'; DROP TABLE documents; --",
  'MATCH (n) DETACH DELETE n',
  '{"$where": "1"}',
  '../../etc/passwd',
  '<script>alert(1)</script>',
  '${process.exit()}',
  'apex:doc:*',
  '\u0000',
  '\u202e\u200b',
  'a\r\nSet-Cookie: x=1',
];
const hostile = fc.oneof(
  fc.constantFrom(...INJECTIONS),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
  fc.string({ minLength: 1, maxLength: 20 }),
);
const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);

/** A request body and its content type. */
const bodyArb: fc.Arbitrary<{ body: Uint8Array | string; type: string; label: string }> = fc.oneof(
  fc
    .record({
      id: hostile,
      title: hostile,
      text: fc.oneof(hostile, fc.lorem({ maxCount: 30 })),
      metadata: fc.dictionary(hostile, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
    })
    .map((d) => ({ body: JSON.stringify(d), type: 'application/json', label: 'document with hostile strings' })),
  fc
    .record({
      id: fc.constantFrom(...INJECTIONS.filter((x) => !/\p{Cc}/u.test(x))),
      n: fc.nat(1_000),
      title: fc.constantFrom(...INJECTIONS.filter((x) => !/\p{Cc}/u.test(x))),
      text: fc.lorem({ maxCount: 30 }),
    })
    .map(({ id, n, title, text }) => ({
      body: JSON.stringify({ id: `${id}${n}`, title, text: `${text} ${title}`, metadata: { q: title } }),
      type: 'application/json',
      label: 'valid document with injection strings',
    })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ body: JSON.stringify(v), type: 'application/json', label: 'random JSON' })),
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ body: b, type: 'application/json', label: 'random bytes' })),
  fc
    .constantFrom(new Uint8Array([0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]))
    .map((b) => ({ body: b, type: 'application/json', label: 'invalid UTF-8 in a string' })),
  fc.integer({ min: 100, max: 20_000 }).map((d) => ({
    body: `{"id":"deep","title":"t","text":"x","metadata":{"a":${nested(d)}}}`,
    type: 'application/json',
    label: 'deep nesting',
  })),
  fc
    .integer({ min: LIMIT + 1, max: LIMIT * 4 })
    .map((n) => ({ body: JSON.stringify({ id: 'huge', title: 't', text: 'x'.repeat(n) }), type: 'application/json', label: 'huge body' })),
  fc.string({ maxLength: 50 }).map((s) => ({ body: s, type: 'text/plain', label: 'wrong content type' })),
);

async function expectProblem(res: Response, label: string): Promise<string> {
  const text = await res.text();
  assert.ok(res.status >= 400 && res.status < 500, `${label}: HTTP ${res.status} ${text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/, label);
  const problem = JSON.parse(text) as { code?: unknown };
  assert.equal(typeof problem.code, 'string', `${label}: no stable code in ${text.slice(0, 200)}`);
  return problem.code as string;
}

test(
  'POST /v1/documents with hostile bodies: a clear 4xx or a faithful write, never a 5xx or a partial write',
  { timeout: 300_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(bodyArb, async ({ body, type, label }) => {
        const before = await h.snapshot();
        const res = await h.request('/v1/documents?wait=5', { method: 'POST', headers: { 'content-type': type }, body });
        tally.requests++;
        if (res.status < 300) {
          tally.accepted++;
          const sent = JSON.parse(typeof body === 'string' ? body : new TextDecoder().decode(body)) as { id: string; title: string };
          const got = await h.request(`/v1/documents/${encodeURIComponent(sent.id)}`);
          const text = await got.text();
          assert.equal(got.status, 200, `${label}: accepted but not readable: ${text.slice(0, 300)}`);
          const doc = JSON.parse(text) as { id: string; title: string };
          assert.equal(doc.id, sent.id, label);
          assert.equal(doc.title, sent.title.trim(), label); // titles are stored trimmed (docs/documents.md)
          return;
        }
        tally.refused++;
        const code = await expectProblem(res, label);
        tally.codes[code] = (tally.codes[code] ?? 0) + 1;
        if (code !== 'WRITE_COMPENSATED')
          assert.equal(await h.snapshot(), before, `${label}: refused with ${code} but something was written`);
      }),
      { seed, numRuns: runs },
    );
  },
);

test('GET and DELETE /v1/documents/{id} with hostile ids: 200, 404 or a 4xx problem, never a 5xx', { timeout: 120_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(hostile, fc.constantFrom('GET', 'DELETE'), async (id, method) => {
      const res = await h.request(`/v1/documents/${encodeURIComponent(id)}${method === 'DELETE' ? '?wait=5' : ''}`, { method });
      tally.requests++;
      if (res.status >= 300) await expectProblem(res, `${method} ${JSON.stringify(id)}`);
      else await res.text();
    }),
    { seed: seed + 1, numRuns: runs },
  );
  const alive = await h.request('/healthz');
  assert.equal(alive.status, 200, 'the API still serves');
  assert.deepEqual((await verifyStores(h.raw)).violations, []);
});

test(
  'GET /v1/sagas/{id}, POST retry and cancel with hostile ids: 400 for control characters, else 404, never a 5xx; the log is unchanged',
  { timeout: 120_000 },
  async () => {
    const before = await h.snapshot();
    await fc.assert(
      fc.asyncProperty(hostile, fc.constantFrom('show', 'retry', 'cancel'), async (id, action) => {
        const path = `/v1/sagas/${encodeURIComponent(id)}${action === 'show' ? '' : `/${action}?wait=1`}`;
        const res = await h.request(path, { method: action === 'show' ? 'GET' : 'POST' });
        tally.requests++;
        tally.sagaRequests++;
        assert.ok(res.status >= 400, `${action} ${JSON.stringify(id)}: HTTP ${res.status} for an id no saga has`);
        const code = await expectProblem(res, `${action} ${JSON.stringify(id)}`);
        if (/\p{Cc}/u.test(id))
          assert.equal(code, 'HTTP_INVALID_PARAMETER', `${action} ${JSON.stringify(id)}: a control character is bad input, not ${code}`);
      }),
      { seed: seed + 2, numRuns: runs },
    );
    const bulk = await h.request('/v1/sagas/bulk-retry', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sagaIds: ['a\u0000b'], dryRun: false }),
    });
    assert.equal(bulk.status, 422, 'a control character in a bulk-retry saga id is refused as a body problem');
    assert.equal(await expectProblem(bulk, 'bulk-retry'), 'HTTP_INVALID_BODY');
    assert.equal(await h.snapshot(), before, 'hostile saga ids changed nothing');
  },
);

test('regression: a NUL in a path id is a 400 HTTP_INVALID_PARAMETER, not a 503 STORE_PERMANENT from PostgreSQL', async () => {
  for (const [method, path] of [
    ['GET', '/v1/documents/a%00b'],
    ['DELETE', '/v1/documents/%00?wait=5'],
    ['GET', '/v1/documents/%07/stores'],
    ['GET', '/v1/sagas/a%00b'],
    ['POST', '/v1/sagas/%00/retry'],
    ['POST', '/v1/sagas/x%1b/cancel?wait=1'],
  ] as const) {
    const res = await h.request(path, { method });
    assert.equal(res.status, 400, `${method} ${path}`);
    assert.equal(await expectProblem(res, path), 'HTTP_INVALID_PARAMETER');
  }
});
