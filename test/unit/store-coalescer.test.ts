// The store coalescer (src/stores/coalesce/coalescer.ts) against a fake batched store whose calls
// the test answers by hand: batch formation per event-loop turn, caps, one member per document,
// aborts before and after send, whole-batch retryable vs permanent failures. Deterministic: no
// timers, no real store.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer, type MemberOutcome } from '../../src/stores/coalesce/coalescer.js';
import { StoreError } from '../../src/stores/errors.js';

interface Item {
  doc: string;
  bytes?: number;
  poison?: boolean;
}

/** A batched store whose every call waits until the test settles it. */
class FakeBatchStore {
  calls: Array<{ items: Item[]; settle: (o: Array<MemberOutcome<string>> | Error) => void }> = [];
  send = (items: readonly Item[]): Promise<Array<MemberOutcome<string>>> =>
    new Promise((resolve, reject) => {
      this.calls.push({ items: [...items], settle: (o) => (o instanceof Error ? reject(o) : resolve(o)) });
    });
  /** Answers call `i`: every member ok with "ok:<doc>", poison ones failed permanently. */
  answer(i: number): void {
    const call = this.calls[i];
    assert.ok(call, `no call ${i}`);
    call.settle(
      call.items.map((it) =>
        it.poison
          ? { ok: false, error: new StoreError('neo4j', 'STORE_PERMANENT', `poison ${it.doc}`) }
          : { ok: true, value: `ok:${it.doc}` },
      ),
    );
  }
  docs(i: number): string[] {
    return (this.calls[i]?.items ?? []).map((it) => it.doc);
  }
}

function coalescer(
  store: FakeBatchStore,
  opts: { maxItems?: number; maxBytes?: number; maxInFlight?: number } = {},
): Coalescer<Item, string> {
  return new Coalescer<Item, string>({
    send: store.send,
    keyOf: (it) => it.doc,
    sizeOf: (it) => it.bytes ?? 1,
    abortedError: (it) => new StoreError('neo4j', 'STORE_TRANSIENT', `aborted before start (${it.doc})`),
    ...opts,
  });
}

/** Two event-loop turns: a batch's settlement, then the coalescer's next send. */
const turn = async (): Promise<void> => {
  for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
};

async function settled<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; err: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, err };
  }
}

void describe('Coalescer', () => {
  void it('sends a lone call without waiting for an event-loop turn (c=1)', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store);
    const p = c.submit({ doc: 'a' });
    await Promise.resolve(); // one microtask: no setImmediate, no timer
    assert.equal(store.calls.length, 1);
    assert.deepEqual(store.docs(0), ['a']);
    store.answer(0);
    assert.equal(await p, 'ok:a');
  });

  void it('puts calls made in one turn into one batch, and calls arriving meanwhile into the next', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxInFlight: 1 });
    const first = ['a', 'b', 'c'].map((doc) => c.submit({ doc }));
    await turn();
    assert.equal(store.calls.length, 1);
    assert.deepEqual(store.docs(0), ['a', 'b', 'c']);
    const second = ['d', 'e'].map((doc) => c.submit({ doc }));
    await turn();
    assert.equal(store.calls.length, 1, 'one batch in flight at most');
    store.answer(0);
    assert.deepEqual(await Promise.all(first), ['ok:a', 'ok:b', 'ok:c']);
    await turn();
    assert.deepEqual(store.docs(1), ['d', 'e']);
    store.answer(1);
    assert.deepEqual(await Promise.all(second), ['ok:d', 'ok:e']);
  });

  void it('keeps several batches in flight, one per event-loop turn', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxInFlight: 2 });
    const all: Array<Promise<string>> = [c.submit({ doc: 'a' })];
    await Promise.resolve();
    assert.equal(store.calls.length, 1);
    all.push(c.submit({ doc: 'b' }), c.submit({ doc: 'c' }));
    await turn();
    assert.equal(store.calls.length, 2, 'a second batch while the first is in flight');
    all.push(c.submit({ doc: 'd' }));
    await turn();
    assert.equal(store.calls.length, 2, 'no third batch beyond maxInFlight');
    store.answer(1);
    await turn();
    assert.deepEqual(store.docs(2), ['d']);
    store.answer(0);
    store.answer(2);
    assert.deepEqual(await Promise.all(all), ['ok:a', 'ok:b', 'ok:c', 'ok:d']);
  });

  void it('never puts two members of one document in one batch', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxInFlight: 1 });
    const ps = [c.submit({ doc: 'a' }), c.submit({ doc: 'a' }), c.submit({ doc: 'b' }), c.submit({ doc: 'a' })];
    await turn();
    assert.deepEqual(store.docs(0), ['a', 'b']);
    store.answer(0);
    await turn();
    assert.deepEqual(store.docs(1), ['a']);
    store.answer(1);
    await turn();
    assert.deepEqual(store.docs(2), ['a']);
    store.answer(2);
    assert.equal((await Promise.all(ps)).length, 4);
  });

  void it('caps items and bytes per batch; an item above the byte cap goes alone', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxItems: 3, maxBytes: 10, maxInFlight: 8 });
    const ps = [
      ...['a', 'b', 'c', 'd'].map((doc) => c.submit({ doc })),
      c.submit({ doc: 'big', bytes: 50 }),
      c.submit({ doc: 'e', bytes: 6 }),
      c.submit({ doc: 'f', bytes: 6 }),
    ];
    await turn();
    const batches = store.calls.map((_, i) => store.docs(i));
    assert.deepEqual(batches[0], ['a', 'b', 'c']);
    for (const b of batches) {
      assert.ok(b.length <= 3);
    }
    assert.ok(
      batches.some((b) => b.length === 1 && b[0] === 'big'),
      JSON.stringify(batches),
    );
    assert.ok(!batches.some((b) => b.includes('e') && b.includes('f')), 'e + f exceed 10 bytes');
    store.calls.forEach((_, i) => store.answer(i));
    assert.equal((await Promise.all(ps)).length, 7);
  });

  void it('a member aborted while queued leaves the batch; one aborted after the send gets the outcome', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxInFlight: 1 });
    const sent = new AbortController();
    const first = c.submit({ doc: 'a' }, sent.signal);
    await Promise.resolve();
    assert.deepEqual(store.docs(0), ['a']);
    const queued = new AbortController();
    const leaving = settled(c.submit({ doc: 'b' }, queued.signal));
    const staying = c.submit({ doc: 'c' });
    queued.abort();
    sent.abort(); // too late: its batch is out, so the outcome is the batch's (in doubt until it answers)
    const left = await leaving;
    assert.ok(
      !left.ok && left.err instanceof StoreError && left.err.code === 'STORE_TRANSIENT' && /aborted before start/.test(left.err.message),
    );
    store.answer(0);
    assert.equal(await first, 'ok:a');
    await turn();
    assert.deepEqual(store.docs(1), ['c'], 'the aborted member is not sent');
    store.answer(1);
    assert.equal(await staying, 'ok:c');
    const already = new AbortController();
    already.abort();
    assert.ok(!(await settled(c.submit({ doc: 'z' }, already.signal))).ok);
    assert.equal(store.calls.length, 2);
  });

  void it('a retryable whole-batch failure rejects every member with it (their steps retry)', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxInFlight: 1 });
    const ps = ['a', 'b', 'c'].map((doc) => settled(c.submit({ doc })));
    await turn();
    const deadlock = new StoreError('neo4j', 'STORE_TRANSIENT', 'deadlock detected');
    store.calls[0]?.settle(deadlock);
    for (const r of await Promise.all(ps)) assert.ok(!r.ok && r.err === deadlock);
    assert.equal(store.calls.length, 1, 'not split: the members retry through their own policies');
  });

  void it('a permanent whole-batch failure is split: only the poison document fails', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store, { maxInFlight: 1 });
    const ps = [c.submit({ doc: 'a' }), c.submit({ doc: 'p', poison: true }), c.submit({ doc: 'b' })].map((p) => settled(p));
    await turn();
    store.calls[0]?.settle(new StoreError('neo4j', 'STORE_PERMANENT', 'bad batch'));
    await turn();
    assert.equal(store.calls.length, 4, 'three single-member retries');
    assert.deepEqual(
      [1, 2, 3].map((i) => store.docs(i)),
      [['a'], ['p'], ['b']],
    );
    for (const i of [1, 2, 3]) store.answer(i);
    const [a, p, b] = await Promise.all(ps);
    assert.ok(a?.ok && a.value === 'ok:a');
    assert.ok(b?.ok && b.value === 'ok:b');
    assert.ok(p && !p.ok && p.err instanceof StoreError && p.err.code === 'STORE_PERMANENT');
  });

  void it('per-member failures inside a batch reach only their member', async () => {
    const store = new FakeBatchStore();
    const c = coalescer(store);
    const ps = [c.submit({ doc: 'a' }), c.submit({ doc: 'p', poison: true })].map((p) => settled(p));
    await Promise.resolve();
    store.answer(0);
    const [a, p] = await Promise.all(ps);
    assert.ok(a?.ok);
    assert.ok(p && !p.ok);
    assert.equal(store.calls.length, 1);
  });

  void it('a batched call answering too few outcomes fails the members left without one', async () => {
    const c = new Coalescer<Item, string>({
      send: async () => [{ ok: true, value: 'x' }],
      keyOf: (it) => it.doc,
      abortedError: () => new Error('aborted'),
    });
    const [a, b] = await Promise.all([settled(c.submit({ doc: 'a' })), settled(c.submit({ doc: 'b' }))]);
    assert.ok(a?.ok);
    assert.ok(b && !b.ok);
  });
});

void describe('Coalescer with a per-document call (sendOne)', () => {
  void it('sends a batch of one through the per-document call, a batch of many through the batched one', async () => {
    const store = new FakeBatchStore();
    const singles: string[] = [];
    let open: () => void = () => undefined;
    const gate = new Promise<void>((r) => (open = r));
    const c = new Coalescer<Item, string>({
      send: store.send,
      sendOne: async (it) => {
        singles.push(it.doc);
        if (it.doc === 'z') await gate;
        if (it.poison) throw new StoreError('neo4j', 'STORE_PERMANENT', `poison ${it.doc}`);
        return `one:${it.doc}`;
      },
      keyOf: (it) => it.doc,
      abortedError: (it) => new StoreError('neo4j', 'STORE_TRANSIENT', `aborted before start (${it.doc})`),
      maxInFlight: 1,
    });
    assert.equal(await c.submit({ doc: 'a' }), 'one:a', 'a lone call (c=1) pays the per-document call');
    assert.equal(store.calls.length, 0);
    const blocker = c.submit({ doc: 'z' }); // in flight alone (per-document), the next ones queue
    await Promise.resolve();
    const many = [c.submit({ doc: 'b' }), c.submit({ doc: 'c', poison: true }), c.submit({ doc: 'd' })];
    open();
    assert.equal(await blocker, 'one:z');
    await turn();
    assert.deepEqual(store.docs(0), ['b', 'c', 'd'], 'queued calls share one batched call');
    // The batch is refused as a whole (permanent): each member goes again alone, per document.
    store.calls[0]?.settle(new StoreError('neo4j', 'STORE_PERMANENT', 'batch refused'));
    const out = await Promise.all(many.map(settled));
    assert.deepEqual(
      out.map((o) => (o.ok ? o.value : 'failed')),
      ['one:b', 'failed', 'one:d'],
    );
    assert.deepEqual(singles, ['a', 'z', 'b', 'c', 'd']);
  });
});
