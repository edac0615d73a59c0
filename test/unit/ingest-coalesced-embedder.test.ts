// CoalescedEmbedder (src/ingest/coalesced-embedder.ts) over a fake model that records every
// request: concurrent calls share one request within the input cap, identical texts are sent once
// per request, each caller gets its own vectors in order, a lone call is sent at once, and a
// permanent request failure is split so only the bad input's caller fails. No network, no timers.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CoalescedEmbedder } from '../../src/ingest/coalesced-embedder.js';
import type { Embedder } from '../../src/ingest/embedder.js';
import { EmbedderError } from '../../src/ingest/errors.js';

class FakeModel implements Embedder {
  readonly name = 'fake';
  readonly dimension = 2;
  requests: string[][] = [];
  /** The next request fails with this (once). */
  failNext: Error | undefined;
  async embed(texts: string[]): Promise<number[][]> {
    this.requests.push([...texts]);
    const fail = this.failNext;
    this.failNext = undefined;
    if (fail) throw fail;
    if (texts.includes('POISON')) throw new EmbedderError('EMBED_PERMANENT', 'input too long');
    return texts.map((t) => [t.length, t.charCodeAt(0)]);
  }
}

const vec = (t: string): number[] => [t.length, t.charCodeAt(0)];

void describe('CoalescedEmbedder', () => {
  void it('a lone call is one request of its own texts, sent without waiting for a turn', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model);
    const p = e.embed(['a', 'bb']);
    await Promise.resolve();
    assert.deepEqual(model.requests, [['a', 'bb']]);
    assert.deepEqual(await p, [vec('a'), vec('bb')]);
  });

  void it('concurrent calls share one request (identical texts once) and get their own vectors', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxInFlight: 1 });
    const calls = [['x', 'shared'], ['yy', 'shared'], ['zzz']];
    const out = await Promise.all(calls.map((texts) => e.embed(texts)));
    assert.deepEqual(model.requests, [['x', 'shared', 'yy', 'zzz']]);
    calls.forEach((texts, i) => assert.deepEqual(out[i], texts.map(vec)));
  });

  void it('keeps each request within the input cap', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxInputs: 4, maxInFlight: 8 });
    const calls = Array.from({ length: 5 }, (_, i) => [`a${i}`, `b${i}`]);
    await Promise.all(calls.map((texts) => e.embed(texts)));
    assert.deepEqual(
      model.requests.map((r) => r.length),
      [4, 4, 2],
    );
  });

  void it('a permanent request failure is split: only the caller with the bad input fails', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxInFlight: 1 });
    const out = await Promise.allSettled([e.embed(['ok1']), e.embed(['POISON']), e.embed(['ok2'])]);
    assert.deepEqual(
      out.map((o) => o.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(model.requests, [['ok1', 'POISON', 'ok2'], ['ok1'], ['POISON'], ['ok2']]);
  });

  void it('keeps each request within the byte cap, and a text larger than the cap goes alone', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxBytes: 10, maxInFlight: 8 });
    const out = await Promise.all([e.embed(['aaaa', 'bbbb']), e.embed(['cccc']), e.embed(['x'.repeat(25)])]);
    for (const r of model.requests) {
      const bytes = r.reduce((n, t) => n + t.length, 0);
      assert.ok(r.length === 1 || bytes <= 10, `request ${JSON.stringify(r)} is over the byte cap`);
    }
    assert.equal(model.requests.flat().length, 4);
    assert.deepEqual(out, [[vec('aaaa'), vec('bbbb')], [vec('cccc')], [vec('x'.repeat(25))]]);
  });

  void it('a call with more texts than the input cap is sent as several requests, vectors in order', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxInputs: 3, maxInFlight: 8 });
    const texts = ['a', 'bb', 'ccc', 'dddd', 'eeeee', 'ffffff', 'g'];
    assert.deepEqual(await e.embed(texts), texts.map(vec));
    assert.ok(model.requests.every((r) => r.length <= 3));
    assert.deepEqual(model.requests.flat().sort(), [...texts].sort());
  });

  void it('a retryable request failure fails every member with that same retryable error, without a split', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxInFlight: 1 });
    const busy = e.embed(['first']);
    await Promise.resolve(); // 'first' is in flight: the next calls queue and share one request
    const calls = [e.embed(['a']), e.embed(['b'])];
    model.failNext = undefined;
    const embed = model.embed.bind(model);
    model.embed = async (texts: string[]) => {
      if (texts.includes('a')) model.failNext = new EmbedderError('EMBED_TRANSIENT', 'HTTP 429');
      return embed(texts);
    };
    await busy;
    const out = await Promise.allSettled(calls);
    assert.deepEqual(model.requests, [['first'], ['a', 'b']]);
    for (const o of out) {
      assert.equal(o.status, 'rejected');
      const err = (o as PromiseRejectedResult).reason as EmbedderError;
      assert.equal(err.code, 'EMBED_TRANSIENT');
      assert.equal(err.retryable, true);
    }
  });

  void it('a permanent failure of a lone call keeps its code (not retried, not split further)', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model);
    await assert.rejects(e.embed(['POISON']), (err: unknown) => (err as EmbedderError).code === 'EMBED_PERMANENT');
    assert.equal(model.requests.length, 1);
  });

  void it('a caller aborted while queued leaves the request; the others still get theirs', async () => {
    const model = new FakeModel();
    const e = new CoalescedEmbedder(model, { maxInFlight: 1 });
    const busy = e.embed(['first']);
    await Promise.resolve(); // in flight
    const ac = new AbortController();
    const gone = e.embed(['mine'], ac.signal);
    const kept = e.embed(['yours']);
    ac.abort();
    await assert.rejects(gone, (err: unknown) => (err as EmbedderError).code === 'EMBED_TRANSIENT');
    await busy;
    assert.deepEqual(await kept, [vec('yours')]);
    assert.deepEqual(model.requests, [['first'], ['yours']]);
  });
});
