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
  async embed(texts: string[]): Promise<number[][]> {
    this.requests.push([...texts]);
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
});
