// Bad input on every documented route answers as the OpenAPI document says (issue 21, item 6):
// a NUL in each path id (400), a repeated query parameter (400 naming it), bulk retry with an
// unknown id (409), /readyz and /metrics with a token (401), a foreign Host (421) and a foreign
// Origin on a write (403), each a documented status with a problem+json body matching the schema.
// Also: a wrong method is 405 with Allow, and an oversized request head is a problem+json 431.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { jsonInit, openHttpHarness, type HttpHarness } from '../support/http-harness.js';
import { openApiChecker, type OpenApiChecker } from '../support/openapi-check.js';

const ID_ROUTES: Array<[string, string, string]> = [
  ['get', '/v1/documents/{id}', '/v1/documents/a%00b'],
  ['put', '/v1/documents/{id}', '/v1/documents/a%00b'],
  ['delete', '/v1/documents/{id}', '/v1/documents/a%00b'],
  ['get', '/v1/documents/{id}/stores', '/v1/documents/a%00b/stores'],
  ['get', '/v1/sagas/{id}', '/v1/sagas/a%00b'],
  ['post', '/v1/sagas/{id}/retry', '/v1/sagas/a%00b/retry'],
  ['post', '/v1/sagas/{id}/cancel', '/v1/sagas/a%00b/cancel'],
];

describe('bad input on every route, checked against /openapi.json', () => {
  let h: HttpHarness;
  let spec: OpenApiChecker;
  before(async () => {
    h = await openHttpHarness({}, { listen: true });
    spec = openApiChecker((await (await h.request('/openapi.json')).json()) as Record<string, unknown>);
  });
  after(async () => {
    await h.close();
  });

  test('a NUL in a path id: 400 HTTP_INVALID_PARAMETER on every id route, documented', async () => {
    for (const [method, template, path] of ID_ROUTES) {
      const init = method === 'put' ? jsonInit('PUT', { title: 't', text: 'x' }) : { method: method.toUpperCase() };
      const r = await spec.check(method, template, await h.request(path, init));
      assert.equal(r.status, 400, `${method} ${path}`);
      assert.equal((r.body as { code: string }).code, 'HTTP_INVALID_PARAMETER');
    }
  });

  test('a repeated query parameter: 400 naming it (not the first value silently)', async () => {
    for (const [method, template, path] of [
      ['get', '/v1/sagas', '/v1/sagas?status=stuck&status=completed'],
      ['get', '/v1/search', '/v1/search?q=a&q=b'],
      ['post', '/v1/documents', '/v1/documents?wait=1&wait=2'],
    ] as const) {
      const init = method === 'post' ? jsonInit('POST', { title: 't', text: 'x' }) : {};
      const r = await spec.check(method, template, await h.request(path, init));
      assert.equal(r.status, 400, path);
      const name = /\?(\w+)=/.exec(path)?.[1];
      assert.equal((r.body as { field: string }).field, name);
    }
    assert.equal((await h.app.engine.log.list({}, { limit: 10 })).sagas.length, 0, 'the refused POST wrote nothing');
  });

  test('bulk retry with an unknown id: documented 409 naming it', async () => {
    const r = await spec.check(
      'post',
      '/v1/sagas/bulk-retry',
      await h.request('/v1/sagas/bulk-retry', jsonInit('POST', { sagaIds: ['no-such-saga'], dryRun: false })),
    );
    assert.equal(r.status, 409);
    assert.deepEqual((r.body as { sagaIds: string[] }).sagaIds, ['no-such-saga']);
  });

  test('a wrong method: 405 with Allow, not 404; an unknown path stays 404', async () => {
    const res = await h.request('/v1/sagas/x/retry', { method: 'GET' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.equal(((await res.json()) as { code: string }).code, 'HTTP_METHOD_NOT_ALLOWED');
    const doc = await h.request('/v1/documents/x', { method: 'PATCH' });
    assert.equal(doc.status, 405);
    assert.equal(doc.headers.get('allow'), 'DELETE, GET, HEAD, PUT');
    await doc.body?.cancel();
    const none = await h.request('/v1/nothing-here', { method: 'POST' });
    assert.equal(none.status, 404);
    await none.body?.cancel();
  });

  test('a 100 kB query string: problem+json 431 (not a bare 431 from Node)', async () => {
    const url = new URL(h.server?.url ?? '');
    const { status, type, body } = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: `/v1/sagas?name=${'x'.repeat(100_000)}` }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 431);
    assert.equal(type, 'application/problem+json');
    const p = JSON.parse(body) as { code: string; status: number };
    assert.deepEqual([p.code, p.status], ['HTTP_HEADERS_TOO_LARGE', 431]);
    assert.ok(spec.operation('get', '/v1/sagas')?.responses['431'], '431 is documented');
  });

  test('with a token, /readyz and /metrics answer a documented 401', async () => {
    const secured = await openHttpHarness({ token: 'correct-horse-battery-staple' });
    try {
      for (const path of ['/readyz', '/metrics']) {
        const r = await spec.check('get', path, await secured.request(path));
        assert.equal(r.status, 401, path);
      }
    } finally {
      await secured.close();
    }
  });

  test('enqueued writes answer what they are: action "queued", intent "deleted", until a worker runs them', async () => {
    const q = await openHttpHarness({ mode: 'enqueue' });
    try {
      const created = await spec.check(
        'post',
        '/v1/documents',
        await q.request('/v1/documents', jsonInit('POST', { id: 'q-1', title: 'Q', text: 'Queued.' })),
      );
      assert.equal(created.status, 202);
      assert.deepEqual([(created.body as { action: string }).action, (created.body as { intent: string }).intent], ['queued', 'created']);
      await q.app.writer.ingest({ id: 'q-2', title: 'Q2', text: 'Written in process.', metadata: {} });
      const del = await spec.check('delete', '/v1/documents/{id}', await q.request('/v1/documents/q-2', { method: 'DELETE' }));
      assert.equal(del.status, 202);
      assert.deepEqual([(del.body as { action: string }).action, (del.body as { intent: string }).intent], ['queued', 'deleted']);
      assert.equal(
        ((await (await q.request('/v1/documents/q-2')).json()) as { ingestionStatus: string }).ingestionStatus,
        'committed',
        'nothing deleted yet',
      );
    } finally {
      await q.close();
    }
  });
});
