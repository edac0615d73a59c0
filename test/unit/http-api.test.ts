// The HTTP API over an embedded app (in-process fetch): every route, idempotency keys, waits,
// an injected failure, a stuck saga and its retry, bulk retry, and bad input of every kind
// (each a 4xx problem+json with a stable code, and nothing written to any store or the log).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { submitIngest } from '../../src/fleet/submit.js';
import { createHttpApi } from '../../src/http/server.js';
import { jsonInit, openHttpHarness, type HttpHarness } from '../support/http-harness.js';
import { allSagas } from '../support/log-pages.js';

const PROBLEM = 'application/problem+json';

async function problem(res: Response, status: number, code: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get('content-type'), PROBLEM, text);
  const body = JSON.parse(text) as Record<string, unknown>;
  assert.equal(body.code, code, text);
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  return body;
}

async function ok<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('HTTP API (embedded app, in process)', () => {
  let h: HttpHarness;
  before(async () => {
    h = await openHttpHarness({ maxBodyBytes: 64 * 1024 });
  });
  after(async () => {
    await h.close();
  });

  test('POST with wait: 201 created; the same content again: 200 unchanged; GET and stores agree', async () => {
    const created = await ok(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'doc-a', title: 'Alpha', text: 'Alice met Bob in Paris.' })),
      201,
    );
    assert.equal(created.action, 'created');
    assert.equal(created.sagaStatus, 'completed');
    assert.equal(created.ingestionStatus, 'committed');
    const again = await ok(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'doc-a', title: 'Alpha', text: 'Alice met Bob in Paris.' })),
    );
    assert.deepEqual([again.action, again.sagaStatus, again.sagaId], ['unchanged', 'skipped', null]);
    const doc = await ok(await h.request('/v1/documents/doc-a'));
    assert.equal(doc.ingestionStatus, 'committed');
    assert.equal(doc.text, 'Alice met Bob in Paris.');
    assert.deepEqual(doc.entities, ['Bob', 'Paris']);
    const stores = await ok(await h.request('/v1/documents/doc-a/stores'));
    assert.equal(stores.consistent, true);
    assert.equal((stores.neo4j as { versions: unknown[] }).versions.length, 1);
  });

  test('PUT updates (200), a body id that differs from the path is 422, and the old version stays readable', async () => {
    const upd = await ok(
      await h.request('/v1/documents/doc-a?wait=10', jsonInit('PUT', { title: 'Alpha 2', text: 'Alice met Carol in Rome.' })),
    );
    assert.equal(upd.action, 'updated');
    assert.equal(((await ok(await h.request('/v1/documents/doc-a'))) as { text: string }).text, 'Alice met Carol in Rome.');
    const before = await h.snapshot();
    await problem(await h.request('/v1/documents/doc-a', jsonInit('PUT', { id: 'other', title: 'x', text: 'y' })), 422, 'DOC_INVALID');
    assert.equal(await h.snapshot(), before);
  });

  test('POST without wait: 202 with Location; the saga completes', async () => {
    const res = await h.request('/v1/documents', jsonInit('POST', { id: 'doc-b', title: 'Beta', text: 'Dave lives in Berlin.' }));
    const body = await ok(res, 202);
    assert.equal(res.headers.get('location'), `/v1/sagas/${String(body.sagaId)}`);
    const saga = await until('saga completed', async () => {
      const s = await ok(await h.request(String(body.location)));
      return s.status === 'completed' ? s : undefined;
    });
    assert.equal(saga.docId, 'doc-b');
  });

  test('Idempotency-Key: same key and body never runs twice; another body is a 409', async () => {
    const key = { 'idempotency-key': 'order-42' };
    const first = await ok(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'doc-k', title: 'K', text: 'Kim wrote this.' }, key)),
      201,
    );
    const second = await ok(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'doc-k', title: 'K', text: 'Kim wrote this.' }, key)),
      201,
    );
    assert.equal(second.sagaId, first.sagaId);
    const sagas = await allSagas(h.app.engine.log);
    assert.equal(sagas.filter((s) => s.sagaId === first.sagaId).length, 1);
    const before = await h.snapshot();
    const conflict = await problem(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'doc-k', title: 'K', text: 'Other text.' }, key)),
      409,
      'HTTP_IDEMPOTENCY_CONFLICT',
    );
    assert.equal(conflict.sagaId, first.sagaId);
    assert.equal(await h.snapshot(), before);
    await problem(
      await h.request('/v1/documents', jsonInit('POST', { title: 'K', text: 'x' }, { 'idempotency-key': 'bad key with spaces' })),
      400,
      'HTTP_INVALID_PARAMETER',
    );
  });

  test('an injected failure: 503 WRITE_COMPENSATED, nothing of the document anywhere; the saga is found by filters', async () => {
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 1 });
    const p = await problem(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'doc-f', title: 'F', text: 'Frank fails here.' })),
      503,
      'WRITE_COMPENSATED',
    );
    assert.equal(p.ingestionStatus, 'failed');
    assert.deepEqual(await h.raw.neo4j.listVersions('doc-f'), []);
    assert.deepEqual(await h.raw.qdrant.listVersions('doc-f'), []);
    const list = await ok<{ sagas: Array<{ sagaId: string; failedSteps: string[] }> }>(
      await h.request('/v1/sagas?status=compensated&failedStep=qdrant_write'),
    );
    assert.deepEqual(
      list.sagas.map((s) => s.sagaId),
      [p.sagaId],
    );
    const detail = await ok<{
      timeAxis: string;
      bars: Array<{ step: string; phase: string; outcome: string; error: { code: string } | null }>;
    }>(await h.request(`/v1/sagas/${String(p.sagaId)}`));
    assert.equal(detail.timeAxis, 'wall');
    const failed = detail.bars.find((b) => b.step === 'qdrant_write' && b.phase === 'forward');
    assert.equal(failed?.outcome, 'failed');
    assert.equal(failed?.error?.code, 'STORE_INJECTED');
    assert.ok(detail.bars.some((b) => b.phase === 'compensation' && b.step === 'postgres_pending'));
    assert.match(String((failed as { operation?: unknown } | undefined)?.operation), /^Qdrant: upsert/);
  });

  test('a stuck saga: listed by stuck=true and its failed compensation, not as retrying; bulk retry dry run lists exactly it; retry finishes it', async () => {
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 1 });
    h.faults.neo4j.schedule({ method: 'removeVersion', when: 'before', retryable: true, times: 100 });
    const res = await h.request('/v1/documents?wait=30', jsonInit('POST', { id: 'doc-s', title: 'S', text: 'Sam is stuck.' }));
    const stuck = await ok(res, 202);
    assert.equal(stuck.sagaStatus, 'stuck');
    h.faults.neo4j.disable();
    const listed = await ok<{ sagas: Array<{ sagaId: string; retrying: boolean }>; total: number }>(
      await h.request('/v1/sagas?stuck=true&failedStep=neo4j_write'),
    );
    assert.deepEqual(
      listed.sagas.map((s) => s.sagaId),
      [stuck.sagaId],
    );
    assert.equal(listed.total, 1);
    // Retrying means running in a step retry; a stuck saga waits for its operator instead.
    assert.equal(listed.sagas[0]?.retrying, false);
    assert.deepEqual((await ok<{ sagas: unknown[] }>(await h.request('/v1/sagas?stuck=true&retrying=true'))).sagas, []);
    const before = await h.snapshot();
    const dry = await ok<{ dryRun: boolean; sagas: Array<{ sagaId: string }>; results: unknown[] }>(
      await h.request('/v1/sagas/bulk-retry', jsonInit('POST', { dryRun: true })),
    );
    assert.equal(dry.dryRun, true);
    assert.deepEqual(
      dry.sagas.map((s) => s.sagaId),
      [stuck.sagaId],
    );
    assert.deepEqual(dry.results, []);
    assert.equal(await h.snapshot(), before, 'a dry run touches nothing');
    const retried = await ok(await h.request(`/v1/sagas/${String(stuck.sagaId)}/retry?wait=20`, { method: 'POST' }));
    assert.equal(retried.status, 'compensated');
    const page = await ok<{ fencingToken: number; ownership: Array<{ event: string; fencingToken: number | null; at: number | null }> }>(
      await h.request(`/v1/sagas/${String(stuck.sagaId)}`),
    );
    const claim = page.ownership.find((o) => o.event.startsWith('claimed (retry)'));
    assert.ok(claim && claim.at !== null, JSON.stringify(page.ownership));
    assert.equal(claim.fencingToken, page.fencingToken);
    assert.ok(page.fencingToken > 1, 'the retry bumped the fencing token');
    await problem(await h.request(`/v1/sagas/${String(stuck.sagaId)}/retry`, { method: 'POST' }), 409, 'SAGA_NOT_STUCK');
    await problem(await h.request('/v1/sagas/no-such-saga/retry', { method: 'POST' }), 404, 'SAGA_NOT_FOUND');
    await problem(
      await h.request('/v1/sagas/bulk-retry', jsonInit('POST', { sagaIds: [String(stuck.sagaId)], dryRun: false })),
      409,
      'SAGA_NOT_STUCK',
    );
    const empty = await ok<{ sagas: unknown[] }>(await h.request('/v1/sagas/bulk-retry', jsonInit('POST', { dryRun: false })));
    assert.deepEqual(empty.sagas, []);
  });

  test('cancel: a queued saga compensates (200); a completed one is 409 SAGA_NOT_CANCELLABLE; unknown 404', async () => {
    const queued = await submitIngest(h.app, { id: 'doc-c', title: 'C', text: 'Chris is cancelled.', metadata: {} });
    assert.ok(queued.sagaId);
    const pending = await ok(await h.request(`/v1/sagas/${queued.sagaId}`));
    assert.equal(pending.status, 'pending');
    const cancelled = await ok(await h.request(`/v1/sagas/${queued.sagaId}/cancel?wait=10&reason=test`, { method: 'POST' }));
    assert.equal(cancelled.status, 'compensated');
    assert.equal((cancelled.reason as { code: string }).code, 'SAGA_CANCELLED');
    assert.notEqual((await h.raw.postgres.getDocument('doc-c'))?.ingestionStatus, 'committed');
    const done = (await allSagas(h.app.engine.log, { status: 'completed' }))[0];
    await problem(await h.request(`/v1/sagas/${done?.sagaId ?? ''}/cancel`, { method: 'POST' }), 409, 'SAGA_NOT_CANCELLABLE');
    await problem(await h.request('/v1/sagas/nope/cancel', { method: 'POST' }), 404, 'SAGA_NOT_FOUND');
  });

  test('saga list: cursor pagination visits every saga once, newest first', async () => {
    const all = await allSagas(h.app.engine.log);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { sagas: Array<{ sagaId: string; createdAt: string }>; nextCursor: string | null } = await ok(
        await h.request(`/v1/sagas?limit=2${cursor ? `&cursor=${cursor}` : ''}`),
      );
      seen.push(...page.sagas.map((s) => s.sagaId));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(seen.length, all.length);
    assert.equal(new Set(seen).size, all.length);
    const created = all.map((s) => s.createdAt);
    assert.ok(created.length > 3);
    const first = await ok<{ sagas: Array<{ createdAt: string }> }>(await h.request('/v1/sagas?limit=1'));
    assert.equal(Date.parse(first.sagas[0]?.createdAt ?? ''), Math.max(...created));
    const none = await ok<{ sagas: unknown[] }>(await h.request(`/v1/sagas?until=${Math.min(...created)}`));
    assert.deepEqual(none.sagas, []);
    const v = await ok<{ sagas: unknown[] }>(await h.request('/v1/sagas?name=ingest&version=1&since=2000-01-01T00:00:00Z'));
    assert.ok(v.sagas.length > 0);
  });

  test('DELETE: 200 deleted, then 404; search finds committed documents only', async () => {
    const hits = await ok<{ hits: Array<{ id: string }> }>(await h.request('/v1/search?q=Dave%20Berlin&k=3'));
    assert.equal(hits.hits[0]?.id, 'doc-b');
    const del = await ok(await h.request('/v1/documents/doc-b?wait=10', { method: 'DELETE' }));
    assert.deepEqual([del.action, del.ingestionStatus], ['deleted', 'absent']);
    await problem(await h.request('/v1/documents/doc-b', { method: 'DELETE' }), 404, 'DOC_NOT_FOUND');
    await problem(await h.request('/v1/documents/doc-b'), 404, 'DOC_NOT_FOUND');
    const after = await ok<{ hits: Array<{ id: string }> }>(await h.request('/v1/search?q=Dave%20Berlin&k=3'));
    assert.ok(!after.hits.some((x) => x.id === 'doc-b'));
  });

  test('bad input: every kind is a 4xx problem and writes nothing', async () => {
    const before = await h.snapshot();
    const raw = (body: RequestInit['body'], headers: Record<string, string> = { 'content-type': 'application/json' }): RequestInit => ({
      method: 'POST',
      headers,
      body,
    });
    await problem(
      await h.request('/v1/documents', raw(JSON.stringify({ title: 'x', text: 'y'.repeat(70 * 1024) }))),
      413,
      'HTTP_BODY_TOO_LARGE',
    );
    await problem(await h.request('/v1/documents', raw('{"title": "x", "text": ')), 400, 'HTTP_MALFORMED_JSON');
    await problem(await h.request('/v1/documents', raw('')), 400, 'HTTP_MALFORMED_JSON');
    const unknown = await problem(
      await h.request('/v1/documents', jsonInit('POST', { title: 'x', text: 'y', body: 'z' })),
      422,
      'DOC_INVALID',
    );
    assert.equal(unknown.field, 'body');
    const wrongType = await problem(await h.request('/v1/documents', jsonInit('POST', { title: 7, text: 'y' })), 422, 'DOC_INVALID');
    assert.equal(wrongType.field, 'title');
    await problem(await h.request('/v1/documents', jsonInit('POST', ['not', 'an', 'object'])), 422, 'DOC_INVALID');
    const badUtf8 = Buffer.concat([Buffer.from('{"title":"x","text":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    await problem(await h.request('/v1/documents', raw(badUtf8)), 400, 'HTTP_INVALID_UTF8');
    await problem(
      await h.request('/v1/documents', raw('{"title":"x","text":"y"}', { 'content-type': 'text/plain' })),
      415,
      'HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    await problem(
      await h.request('/v1/documents', raw('{"title":"x","text":"y"}', { 'content-type': 'application/json; charset=latin1' })),
      415,
      'HTTP_UNSUPPORTED_MEDIA_TYPE',
    );
    await problem(await h.request('/v1/documents?wait=abc', jsonInit('POST', { title: 'x', text: 'y' })), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/documents?wait=600', jsonInit('POST', { title: 'x', text: 'y' })), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/documents?bogus=1', jsonInit('POST', { title: 'x', text: 'y' })), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/documents/x', jsonInit('PUT', { title: '', text: 'y' })), 422, 'DOC_INVALID');
    await problem(await h.request('/v1/search?k=5'), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/sagas?status=done'), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/sagas?cursor=nonsense'), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/sagas?since=yesterday'), 400, 'HTTP_INVALID_PARAMETER');
    await problem(await h.request('/v1/sagas/bulk-retry', jsonInit('POST', { dryRun: 'yes' })), 422, 'HTTP_INVALID_BODY');
    await problem(await h.request('/v1/sagas/bulk-retry', jsonInit('POST', { everything: true })), 422, 'HTTP_INVALID_BODY');
    await problem(await h.request('/v1/nothing-here'), 404, 'HTTP_NOT_FOUND');
    assert.equal(await h.snapshot(), before);
  });

  test('health, readiness, metrics, overview, verify, spec, docs page and dashboard', async () => {
    assert.deepEqual(await ok(await h.request('/healthz')), { status: 'ok' });
    const ready = await ok<{ ready: boolean; checks: Array<{ name: string; ok: boolean }> }>(await h.request('/readyz'));
    assert.deepEqual(
      ready.checks.map((c) => [c.name, c.ok]),
      [
        ['postgres', true],
        ['neo4j', true],
        ['qdrant', true],
        ['redis', true],
        ['saga_log', true],
      ],
    );
    const metrics = await h.request('/metrics');
    assert.equal(metrics.status, 200);
    const verify = await ok<{ violations: unknown[] }>(await h.request('/v1/verify', { method: 'POST' }));
    assert.deepEqual(verify.violations, []);
    const ov = await ok<{
      successRate: number;
      compensationRate: number;
      stuck: number;
      lastVerify: { violations: number } | null;
      vectorIndex: { phase: string; active: { dimension: number; collection: string }; next: unknown; mismatch: unknown } | null;
    }>(await h.request('/v1/overview'));
    assert.ok(ov.compensationRate > 0 && ov.successRate < 1);
    // The active index record as `status` shows it (docs/reindex.md): steady, this app's embedder.
    assert.equal(ov.vectorIndex?.phase, 'steady');
    assert.equal(ov.vectorIndex.active.dimension, h.app.embedder.dimension);
    assert.deepEqual([ov.vectorIndex.next, ov.vectorIndex.mismatch], [null, null]);
    assert.equal(ov.stuck, 0);
    assert.equal(ov.lastVerify?.violations, 0);
    const spec = await ok<{ openapi: string }>(await h.request('/openapi.json'));
    assert.equal(spec.openapi, '3.1.0');
    const docs = await h.request('/docs');
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger-ui-bundle\.js/);
    const ui = await h.request('/ui/');
    assert.equal(ui.status, 200);
    assert.match(ui.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  });

  test('CORS is off by default; with named origins only those get CORS headers', async () => {
    const origin = { origin: 'https://ops.example.com' };
    const off = await h.request('/v1/sagas', { headers: origin });
    assert.equal(off.headers.get('access-control-allow-origin'), null);
    const withCors = createHttpApi(h.app, { corsOrigins: ['https://ops.example.com'] });
    const on = await withCors.hono.request('/v1/sagas', { headers: origin });
    assert.equal(on.headers.get('access-control-allow-origin'), 'https://ops.example.com');
    const other = await withCors.hono.request('/v1/sagas', { headers: { origin: 'https://evil.example.com' } });
    assert.notEqual(other.headers.get('access-control-allow-origin'), 'https://evil.example.com');
  });

  test('draining: 503 HTTP_SHUTTING_DOWN, readiness false, liveness still up', async () => {
    h.api.ctx.state.draining = true;
    try {
      await problem(await h.request('/v1/documents/doc-a'), 503, 'HTTP_SHUTTING_DOWN');
      assert.equal((await h.request('/readyz')).status, 503);
      assert.equal((await h.request('/healthz')).status, 200);
    } finally {
      h.api.ctx.state.draining = false;
    }
  });
});
