// The saga page's guidance (issue 21, items 2-4): the actions the server allows (no Cancel the
// engine would refuse), what Retry will do in words, a cancel that keeps the original failure and
// records who cancelled, when and why, repeated errors collapsed, no current lease on a saga that
// does not run, a running saga's retry wait (step, store, next attempt and its time), an unknown
// document that is "not found" rather than "consistent", and ETags (304) for the polled routes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { submitIngest } from '../../src/fleet/submit.js';
import { afterPivotSaga, durableWaitSaga, register, type Switch } from '../support/drill-sagas.js';
import { jsonInit, openHttpHarness, type HttpHarness } from '../support/http-harness.js';

type Json = Record<string, unknown>;
interface Detail {
  status: string;
  reason: { code: string; message: string } | null;
  actions: { allowed: string[]; retryWill: string | null; pivotStarted: boolean; retryText: string | null; note: string | null };
  cancellation: { by: string; at: string; message: string } | null;
  errorGroups: Array<{ phase: string; step: string; code: string; count: number; firstAttempt: number; lastAttempt: number }>;
  ownership: Array<{ event: string }>;
  waitingOn: { step: string; store: string | null; nextAttempt: number; retryInMs: number | null; nextAttemptAt: string | null } | null;
}

async function body<T = Json>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as T;
}

describe('saga page guidance (embedded app, in process)', () => {
  let h: HttpHarness;
  const saga = async (id: string): Promise<Detail> => body<Detail>(await h.request(`/v1/sagas/${id}`));
  const sw: Switch = { failing: true };
  before(async () => {
    h = await openHttpHarness();
    register(h.app.engine, afterPivotSaga(sw), durableWaitSaga());
  });
  after(async () => {
    await h.close();
  });

  test('stuck after the pivot: only Retry (forward), in words; 25 errors as one line; Cancel is neither offered nor accepted; no current lease', async () => {
    const def = h.app.engine.definition('drill_after_pivot', 1);
    assert.ok(def);
    const out = await h.app.engine.execute(def, { docId: 'after-pivot' });
    const w = { sagaId: out.sagaId };
    assert.equal(out.status, 'stuck');
    const d = await saga(w.sagaId);
    assert.deepEqual(
      d.errorGroups.map((g) => [g.step, g.count, g.firstAttempt, g.lastAttempt]),
      [['notify', 25, 1, 25]],
    );
    assert.deepEqual(d.actions.allowed, ['retry']);
    assert.equal(d.actions.retryWill, 'forward');
    assert.equal(d.actions.pivotStarted, true);
    assert.match(d.actions.retryText ?? '', /passed its pivot/);
    assert.match(d.actions.note ?? '', /No Cancel/);
    assert.ok(!d.ownership.some((o) => o.event === 'current lease'), 'a stuck saga holds no lease');
    const cancel = await h.request(`/v1/sagas/${w.sagaId}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 409, 'the server refuses what the page does not offer');
    await cancel.body?.cancel();
    sw.failing = false;
    const retried = await body<{ status: string }>(await h.request(`/v1/sagas/${w.sagaId}/retry?wait=20`, { method: 'POST' }));
    assert.equal(retried.status, 'completed');
    assert.deepEqual((await saga(w.sagaId)).actions.allowed, [], 'completed: nothing to do');
  });

  test('stuck before the pivot: Retry continues undoing; errors collapsed; cancel keeps the original failure and records who, when, why', async () => {
    h.faults.qdrant.schedule({ method: 'writeVersion', when: 'before', retryable: false, times: 1 });
    h.faults.neo4j.schedule({ method: 'removeVersion', when: 'before', retryable: true, times: 1_000 });
    const w = await body<{ sagaId: string; sagaStatus: string }>(
      await h.request('/v1/documents?wait=60', jsonInit('POST', { id: 'before-pivot', title: 'B', text: 'Bea never reached it.' })),
      202,
    );
    h.faults.neo4j.disable();
    assert.equal(w.sagaStatus, 'stuck');
    const d = await saga(w.sagaId);
    assert.deepEqual(d.actions.allowed, ['retry', 'cancel']);
    assert.equal(d.actions.retryWill, 'compensate');
    assert.match(d.actions.retryText ?? '', /continues undoing/);
    const comp = d.errorGroups.filter((g) => g.phase === 'compensation' && g.step === 'neo4j_write');
    assert.equal(comp.length, 1, JSON.stringify(d.errorGroups));
    assert.ok((comp[0]?.count ?? 0) > 1, 'repeated compensation failures are one group');
    assert.equal(comp[0]?.firstAttempt, 1);
    assert.equal(comp[0]?.lastAttempt, comp[0]?.count);
    const original = d.reason;
    assert.ok(original && original.code !== 'SAGA_CANCELLED');
    const before = Date.now();
    const c = await body<{ status: string }>(
      await h.request(`/v1/sagas/${w.sagaId}/cancel?wait=20&by=alice&reason=${encodeURIComponent('drill over')}`, { method: 'POST' }),
    );
    assert.equal(c.status, 'compensated');
    const after = await saga(w.sagaId);
    assert.deepEqual(after.reason, original, 'the original failure stays the reason');
    assert.equal(after.cancellation?.by, 'alice');
    assert.equal(after.cancellation?.message, 'drill over');
    assert.ok(Date.parse(after.cancellation?.at ?? '') >= before - 1000);
    assert.deepEqual(after.actions.allowed, []);
  });

  test('a queued saga cancelled before it ran: SAGA_CANCELLED, who and when, no steps', async () => {
    const s = await submitIngest(h.app, { id: 'queued-c', title: 'Q', text: 'Queued then cancelled.', metadata: {} });
    const id = s.sagaId ?? '';
    assert.deepEqual((await saga(id)).actions.allowed, ['cancel']);
    await body(await h.request(`/v1/sagas/${id}/cancel?wait=20`, { method: 'POST' }));
    const d = await saga(id);
    assert.equal(d.status, 'compensated');
    assert.equal(d.reason?.code, 'SAGA_CANCELLED');
    assert.equal(d.cancellation?.by, 'http-api');
    assert.equal(d.errorGroups.length, 0);
  });

  test('a running saga on a durable retry timer shows the step, store, next attempt and its time', async () => {
    // Its one step fails (retryable) and the next attempt is a durable timer (a backoff of up to 11 days).
    const def = h.app.engine.definition('drill_waiting', 1);
    assert.ok(def);
    const w = { sagaId: '0190f000-0000-7000-8000-00000000d811' };
    // execute() would wait for the timer; the saga is in the log (and released) long before.
    h.app.engine.execute(def, { docId: 'waiting' }, { sagaId: w.sagaId }).catch(() => undefined);
    let d: Detail | undefined;
    for (let i = 0; i < 200 && !d?.waitingOn; i++) {
      await new Promise((r) => setTimeout(r, 25));
      const res = await h.request(`/v1/sagas/${w.sagaId}`);
      d = res.status === 200 ? ((await res.json()) as Detail) : (await res.body?.cancel(), undefined);
    }
    assert.equal(d?.status, 'running');
    assert.equal(d?.waitingOn?.step, 'postgres_commit');
    assert.equal(d?.waitingOn?.store, 'PostgreSQL');
    assert.equal(d?.waitingOn?.nextAttempt, 2);
    const inMs = d?.waitingOn?.retryInMs ?? 0;
    assert.ok(inMs > 2000);
    assert.ok(
      Math.abs(Date.parse(d?.waitingOn?.nextAttemptAt ?? '') - (Date.now() + inMs)) < 60_000,
      'next attempt time = failure time + retryInMs',
    );
    const list = await body<{ sagas: Array<{ sagaId: string; waitingOn: unknown }> }>(await h.request('/v1/sagas?status=running'));
    assert.ok(
      list.sagas.some((s) => s.sagaId === w.sagaId && s.waitingOn !== null),
      'the list rows carry it',
    );
  });

  test('an unknown document id: exists false (the page says "not found", not "consistent")', async () => {
    const s = await body<{ exists: boolean; consistent: boolean }>(await h.request('/v1/documents/no-such-doc/stores'));
    assert.equal(s.exists, false);
    await body(await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'known', title: 'K', text: 'Kim is known.' })), 201);
    const known = await body<{ exists: boolean }>(await h.request('/v1/documents/known/stores'));
    assert.equal(known.exists, true);
  });

  test('polled routes answer 304 to a matching If-None-Match, and a new ETag after a change', async () => {
    for (const path of ['/v1/sagas?limit=5', '/v1/overview']) {
      const first = await h.request(path);
      const tag = first.headers.get('etag');
      assert.ok(tag, path);
      await first.body?.cancel();
      const again = await h.request(path, { headers: { 'if-none-match': tag } });
      assert.equal(again.status, 304, path);
      assert.equal(await again.text(), '');
    }
    const list = await h.request('/v1/sagas?limit=5');
    const tag = list.headers.get('etag') ?? '';
    await list.body?.cancel();
    await body(
      await h.request('/v1/documents?wait=10', jsonInit('POST', { id: 'etag-new', title: 'E', text: 'Eve changes the list.' })),
      201,
    );
    const changed = await h.request('/v1/sagas?limit=5', { headers: { 'if-none-match': tag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), tag);
    await changed.body?.cancel();
  });
});
