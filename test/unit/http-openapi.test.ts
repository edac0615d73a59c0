// The served OpenAPI document: it is well-formed OpenAPI 3.1 (structure, every $ref resolves,
// every schema compiles as JSON Schema 2020-12, path parameters declared), and a call to every
// operation in it (good and bad input) gets a status the document lists, with a body that
// validates against the schema for that status and media type.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { submitIngest } from '../../src/fleet/submit.js';
import { jsonInit, openHttpHarness, type HttpHarness } from '../support/http-harness.js';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { content?: Record<string, { schema: Json }>; headers?: Record<string, unknown> }>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  requestBody?: { content: Record<string, { schema: Json }> };
}
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refs(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function pointer(doc: Json, ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `local ref ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Json)[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined),
      doc,
    );
}

describe('OpenAPI document and contract', () => {
  let h: HttpHarness;
  let doc: Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const called = new Map<string, Set<number>>();

  before(async () => {
    h = await openHttpHarness();
    doc = (await (await h.request('/openapi.json')).json()) as Json;
    ajv.addSchema({ $id: 'https://apex.invalid/openapi.json', components: doc.components });
  });
  after(async () => {
    await h.close();
  });

  const ops = (): Array<[string, string, Operation]> =>
    Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, item]) =>
      METHODS.filter((m) => item[m]).map((m): [string, string, Operation] => [m, path, item[m] as Operation]),
    );

  test('the document is well-formed OpenAPI 3.1', () => {
    assert.match(String(doc.openapi), /^3\.1\.\d+$/);
    const info = doc.info as Json;
    assert.equal(typeof info.title, 'string');
    assert.equal(typeof info.version, 'string');
    assert.match(String(info.description), /pending/);
    for (const ref of refs(doc)) assert.notEqual(pointer(doc, ref), undefined, `${ref} resolves`);
    for (const [name, schema] of Object.entries((doc.components as { schemas: Record<string, Json> }).schemas)) {
      assert.doesNotThrow(() => ajv.compile({ $id: `https://apex.invalid/check/${name}`, ...rewrite(schema) }), `schema ${name} compiles`);
    }
    assert.ok(ops().length >= 15);
    for (const [method, path, op] of ops()) {
      assert.ok(Object.keys(op.responses).length > 0, `${method} ${path} has responses`);
      for (const status of Object.keys(op.responses)) assert.match(status, /^[1-5]\d\d$/);
      for (const m of path.matchAll(/\{(\w+)\}/g)) {
        assert.ok(
          op.parameters?.some((p) => p.in === 'path' && p.name === m[1] && p.required === true),
          `${method} ${path} declares path parameter ${m[1]}`,
        );
      }
    }
  });

  function rewrite(schema: unknown): Json {
    return JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"https://apex.invalid/openapi.json#/components/')) as Json;
  }

  /** Calls the route and checks the response against the operation it names. */
  async function call(method: string, template: string, path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
    const op = (doc.paths as Record<string, Record<string, Operation>>)[template]?.[method];
    assert.ok(op, `${method} ${template} is in the document`);
    const res = await h.request(path, { ...init, method: method.toUpperCase() });
    const declared = op.responses[String(res.status)];
    const text = await res.text();
    assert.ok(declared, `${method} ${path} answered ${res.status}, which the document does not list: ${text.slice(0, 300)}`);
    const type = (res.headers.get('content-type') ?? '').split(';')[0] ?? '';
    const media = declared.content?.[type];
    assert.ok(media, `${method} ${path} ${res.status}: content type ${type} is not documented`);
    let body: unknown = text;
    if (type.endsWith('json')) {
      body = JSON.parse(text);
      const validate = ajv.compile(rewrite(media.schema));
      assert.ok(
        validate(body),
        `${method} ${path} ${res.status} body matches the schema: ${ajv.errorsText(validate.errors)} in ${text.slice(0, 300)}`,
      );
    }
    if (declared.headers && 'Location' in declared.headers)
      assert.ok(res.headers.get('location'), `${method} ${path} ${res.status} sends Location`);
    const key = `${method} ${template}`;
    called.set(key, (called.get(key) ?? new Set()).add(res.status));
    return { status: res.status, body };
  }

  test('every operation, called with good and bad input, answers as documented', async () => {
    const docBody = { id: 'c-1', title: 'Contract', text: 'Carol checks contracts in Oslo.' };
    await call('get', '/healthz', '/healthz');
    await call('get', '/readyz', '/readyz');
    await call('get', '/metrics', '/metrics');
    await call('get', '/openapi.json', '/openapi.json');
    const created = await call('post', '/v1/documents', '/v1/documents?wait=10', jsonInit('POST', docBody));
    assert.equal(created.status, 201);
    assert.equal((await call('post', '/v1/documents', '/v1/documents?wait=10', jsonInit('POST', docBody))).status, 200);
    const queued = await call(
      'post',
      '/v1/documents',
      '/v1/documents',
      jsonInit('POST', { id: 'c-2', title: 'Queued', text: 'Quinn queues.' }),
    );
    assert.equal(queued.status, 202);
    await h.app.engine.idle(); // the queued saga must not take the fault injected below
    await call('post', '/v1/documents', '/v1/documents', jsonInit('POST', { title: 1 }));
    await call('post', '/v1/documents', '/v1/documents', { headers: { 'content-type': 'application/json' }, body: '{' });
    await call('post', '/v1/documents', '/v1/documents', { headers: { 'content-type': 'text/plain' }, body: '{}' });
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 1 });
    const failed = await call(
      'post',
      '/v1/documents',
      '/v1/documents?wait=10',
      jsonInit('POST', { id: 'c-3', title: 'Fails', text: 'Fiona fails.' }),
    );
    assert.equal(failed.status, 503);
    await call('put', '/v1/documents/{id}', '/v1/documents/c-1?wait=10', jsonInit('PUT', { title: 'Contract 2', text: 'Carol rechecks.' }));
    await call('put', '/v1/documents/{id}', '/v1/documents/c-1', jsonInit('PUT', { id: 'x', title: 'a', text: 'b' }));
    await call('get', '/v1/documents/{id}', '/v1/documents/c-1');
    await call('get', '/v1/documents/{id}', '/v1/documents/c-3');
    await call('get', '/v1/documents/{id}', '/v1/documents/none');
    await call('get', '/v1/documents/{id}/stores', '/v1/documents/c-1/stores');
    await call('get', '/v1/documents/{id}/stores', '/v1/documents/none/stores');
    await call('get', '/v1/search', '/v1/search?q=Carol&k=2');
    await call('get', '/v1/search', '/v1/search');
    const list = await call('get', '/v1/sagas', '/v1/sagas?limit=1');
    await call('get', '/v1/sagas', '/v1/sagas?status=nope');
    const sagaId = (list.body as { sagas: Array<{ sagaId: string }> }).sagas[0]?.sagaId ?? '';
    await call('get', '/v1/sagas/{id}', `/v1/sagas/${sagaId}`);
    await call('get', '/v1/sagas/{id}', '/v1/sagas/none');
    await call('post', '/v1/sagas/{id}/retry', `/v1/sagas/${sagaId}/retry`);
    await call('post', '/v1/sagas/{id}/retry', '/v1/sagas/none/retry');
    const toCancel = await submitIngest(h.app, { id: 'c-4', title: 'Cancel me', text: 'Cancelled before it ran.', metadata: {} });
    assert.equal((await call('post', '/v1/sagas/{id}/cancel', `/v1/sagas/${toCancel.sagaId ?? ''}/cancel?wait=10`)).status, 200);
    await call('post', '/v1/sagas/{id}/cancel', `/v1/sagas/${sagaId}/cancel`);
    await call('post', '/v1/sagas/{id}/cancel', '/v1/sagas/none/cancel');
    await call('post', '/v1/sagas/{id}/cancel', '/v1/sagas/none/cancel?wait=x');
    await call('post', '/v1/sagas/bulk-retry', '/v1/sagas/bulk-retry', jsonInit('POST', { dryRun: true }));
    await call('post', '/v1/sagas/bulk-retry', '/v1/sagas/bulk-retry', jsonInit('POST', { dryRun: 1 }));
    await call('get', '/v1/overview', '/v1/overview');
    await call('post', '/v1/verify', '/v1/verify');
    await call('delete', '/v1/documents/{id}', '/v1/documents/c-1?wait=10');
    await call('delete', '/v1/documents/{id}', '/v1/documents/c-1');
    await call('get', '/v1/documents/{id}/erasure', '/v1/documents/c-1/erasure');
    await call('get', '/v1/documents/{id}/erasure', '/v1/documents/%00/erasure');
    for (const [method, path] of ops()) assert.ok(called.has(`${method} ${path}`), `${method} ${path} was called`);
  });

  test('a server with a token: 401 problem for a wrong or missing token, as documented', async () => {
    const secured = await openHttpHarness({ token: 'correct-horse-battery-staple' });
    try {
      for (const auth of [undefined, 'Bearer wrong-token', 'Basic abc']) {
        const res = await secured.request('/v1/sagas', auth ? { headers: { authorization: auth } } : {});
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
        assert.equal(((await res.json()) as { code: string }).code, 'HTTP_UNAUTHORIZED');
        const op = (doc.paths as Record<string, Record<string, Operation>>)['/v1/sagas']?.get;
        assert.ok(op?.responses['401']);
      }
      const before = await secured.snapshot();
      const post = await secured.request(
        '/v1/documents?wait=5',
        jsonInit('POST', { title: 'x', text: 'y' }, { authorization: 'Bearer nope' }),
      );
      assert.equal(post.status, 401);
      assert.equal(await secured.snapshot(), before, 'a wrong token writes nothing');
      const good = await secured.request('/v1/sagas', { headers: { authorization: 'Bearer correct-horse-battery-staple' } });
      assert.equal(good.status, 200);
      assert.equal((await secured.request('/healthz')).status, 200, 'liveness needs no token');
    } finally {
      await secured.close();
    }
  });
});
