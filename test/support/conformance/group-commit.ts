// Store group commit cases (src/stores/batch-types.ts, src/stores/coalesce/), run inside each
// store's conformance suite on every adapter that offers the batched calls: mixed fences in one
// batch, a busy document in a batch, a poison document, a timeout mid-batch, and concurrent
// per-document calls through a Coalescer getting their own outcomes. An adapter without the
// batched calls shows the cases as skipped, with the reason.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { StoreError } from '../../../src/stores/errors.js';
import { isStoreError } from '../../../src/stores/errors.js';
import { Coalescer, type MemberOutcome } from '../../../src/stores/coalesce/coalescer.js';
import type {
  CacheBatchWrites,
  DerivedBatchWrites,
  RelationalBatchReads,
  RelationalBatchWrites,
  WriteItem,
} from '../../../src/stores/batch-types.js';
import type { CacheStore, DocumentVersion, GraphStore, RelationalStore, VectorStore } from '../../../src/stores/types.js';
import { ctxFor, isRetryableStoreFailure, makeVersion, sha256, type StoreHarness } from './fixtures.js';

const codeOf = (o: MemberOutcome<unknown> | undefined): string =>
  o && !o.ok && isStoreError(o.error) ? o.error.code : o?.ok ? 'ok' : `not a StoreError: ${String(o && !o.ok ? o.error : o)}`;

function batched<T>(store: object, ...methods: string[]): T | undefined {
  return methods.every((m) => typeof (store as Record<string, unknown>)[m] === 'function') ? (store as T) : undefined;
}

/** Concurrent submits through a Coalescer over `send`: returns each member's outcome. */
async function throughCoalescer<I>(
  send: (items: readonly I[]) => Promise<Array<MemberOutcome<unknown>>>,
  keyOf: (i: I) => string,
  items: I[],
): Promise<{ outcomes: Array<MemberOutcome<unknown>>; batches: number[] }> {
  const batches: number[] = [];
  const c = new Coalescer<I, unknown>({ send, keyOf, abortedError: () => new Error('aborted'), onBatch: ({ size }) => batches.push(size) });
  const outcomes = await Promise.all(
    items.map((i) =>
      c.submit(i).then(
        (value): MemberOutcome<unknown> => ({ ok: true, value }),
        (error: unknown): MemberOutcome<unknown> => ({ ok: false, error }),
      ),
    ),
  );
  return { outcomes, batches };
}

export function relationalGroupCommitCases(
  harness: StoreHarness<RelationalStore>,
  store: () => RelationalStore,
  id: (name: string) => string,
): void {
  const b = (): (RelationalStore & RelationalBatchWrites & RelationalBatchReads) | undefined =>
    batched(store(), 'putPendingBatch', 'commitBatch', 'finishVersionBatch', 'documentStates');
  const v = (name: string, body = `${name} body`): DocumentVersion => makeVersion({ docId: id(name), body });

  void it('group commit: one putPending/commit/finish batch with mixed fences, a busy document and a member without a pending version', async (t) => {
    const s = b();
    if (!s) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
    const [a, c, fenced, busy] = [v('gc-a'), v('gc-c'), v('gc-fenced'), v('gc-busy')];
    await s.putPending(fenced, ctxFor('gc-saga-f', 2)); // a newer owner of saga gc-saga-f wrote
    await s.putPending(busy, ctxFor('gc-holder')); // another saga holds gc-busy
    const put = await s.putPendingBatch([
      { v: a, ctx: ctxFor('gc-saga-a') },
      { v: fenced, ctx: ctxFor('gc-saga-f', 1) },
      { v: busy, ctx: ctxFor('gc-other') },
      { v: c, ctx: ctxFor('gc-saga-c') },
    ]);
    assert.deepEqual(put.map(codeOf), ['ok', 'STORE_FENCED', 'STORE_BUSY', 'ok']);
    assert.deepEqual(put[0], { ok: true, value: { previousSha: null } });
    assert.equal(await s.holderOf(busy.docId), 'gc-holder', 'the busy member changed nothing');
    const commits = await s.commitBatch([
      { docId: a.docId, contentSha256: a.contentSha256, ctx: ctxFor('gc-saga-a'), expectedPrevious: null },
      { docId: c.docId, contentSha256: sha256('never written'), ctx: ctxFor('gc-saga-c') },
      { docId: fenced.docId, contentSha256: fenced.contentSha256, ctx: ctxFor('gc-saga-f', 1) },
    ]);
    assert.deepEqual(commits.map(codeOf), ['ok', 'STORE_PERMANENT', 'STORE_FENCED']);
    assert.equal((await s.getDocument(a.docId))?.contentSha256, a.contentSha256);
    assert.equal((await s.getDocument(fenced.docId))?.contentSha256, null, 'the fenced commit changed nothing');
    const states = await s.documentStates([a.docId, busy.docId, id('gc-absent')]);
    assert.equal(states.get(a.docId)?.row?.ingestionStatus, 'committed');
    assert.equal(states.get(a.docId)?.holder, 'gc-saga-a');
    assert.equal(states.get(busy.docId)?.holder, 'gc-holder');
    assert.deepEqual(states.get(id('gc-absent')), { row: undefined, holder: undefined });
    const finishes = await s.finishVersionBatch([
      { docId: a.docId, previousSha: null, ctx: ctxFor('gc-saga-a') },
      { docId: busy.docId, previousSha: null, ctx: ctxFor('gc-other') },
      { docId: c.docId, previousSha: null, ctx: ctxFor('gc-saga-c') },
    ]);
    assert.deepEqual(finishes.map(codeOf), ['ok', 'STORE_BUSY', 'ok']);
    assert.equal(await s.holderOf(a.docId), undefined);
    assert.equal(await s.holderOf(c.docId), undefined);
    assert.equal(await s.holderOf(busy.docId), 'gc-holder');
  });

  void it('group commit: a poison document (a NUL byte PostgreSQL refuses) fails alone; the others are written', async (t) => {
    const s = b();
    if (!s) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
    const good = [v('gc-p1'), v('gc-p2'), v('gc-p3')];
    const poison = v('gc-poison');
    const first = poison.chunks[0];
    assert.ok(first);
    first.text = 'bad \u0000 byte';
    const items: WriteItem[] = [good[0], poison, good[1], good[2]].map((x, i) => ({ v: x as DocumentVersion, ctx: ctxFor(`gc-ps-${i}`) }));
    const { outcomes, batches } = await throughCoalescer(
      (its: readonly WriteItem[]) => s.putPendingBatch(its),
      (i) => i.v.docId,
      items,
    );
    assert.deepEqual(outcomes.map(codeOf), ['ok', 'STORE_PERMANENT', 'ok', 'ok']);
    assert.ok(batches.length >= 2, `the failed batch was split (batches ${batches.join(',')})`);
    for (const g of good) assert.equal((await s.getPendingVersions(g.docId)).length, 1);
    assert.equal(await s.getDocument(poison.docId), undefined);
  });

  void it(
    'group commit: a timeout mid-batch rejects the batch as a whole (retryable, in doubt)',
    { skip: harness.stallMidCall ? false : `${harness.label} has no connection to stall` },
    async () => {
      const err = await harness.stallMidCall?.((st) =>
        (st as unknown as RelationalBatchWrites).putPendingBatch([
          { v: v('gc-stall-1'), ctx: ctxFor('gc-st-1') },
          { v: v('gc-stall-2'), ctx: ctxFor('gc-st-2') },
        ]),
      );
      assert.ok(isRetryableStoreFailure(err) && (err as StoreError).code === 'STORE_TIMEOUT', String(err));
    },
  );
}

type Derived = GraphStore | VectorStore;

export function derivedGroupCommitCases(
  harness: StoreHarness<Derived>,
  store: () => Derived,
  id: (name: string) => string,
  opts: { fencing: boolean; dimension: () => number },
): void {
  const b = (): (Derived & DerivedBatchWrites) | undefined => batched(store(), 'writeVersionBatch', 'removeVersionBatch');
  const v = (name: string, body = `${name} body`): DocumentVersion => makeVersion({ docId: id(name), body, dimension: opts.dimension() });

  void it('group commit: writeVersion/removeVersion batches answer one outcome per document', async (t) => {
    const s = b();
    if (!s) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
    const docs = [v('gc-w1'), v('gc-w2'), v('gc-w3')];
    const wrote = await s.writeVersionBatch(docs.map((x, i) => ({ v: x, ctx: ctxFor(`gc-w-${i}`) })));
    assert.deepEqual(wrote.map(codeOf), ['ok', 'ok', 'ok']);
    for (const d of docs)
      assert.deepEqual(await s.listVersions(d.docId), [{ docId: d.docId, contentSha256: d.contentSha256, chunkCount: 3 }]);
    const removed = await s.removeVersionBatch([
      { docId: docs[0]?.docId ?? '', contentSha256: docs[0]?.contentSha256 ?? '', ctx: ctxFor('gc-w-0') },
      { docId: docs[1]?.docId ?? '', contentSha256: sha256('another version') },
    ]);
    assert.deepEqual(removed.map(codeOf), ['ok', 'ok']);
    assert.deepEqual(await s.listVersions(docs[0]?.docId ?? ''), []);
    assert.equal((await s.listVersions(docs[1]?.docId ?? '')).length, 1, "another version's removal leaves this one");
  });

  void it("group commit: a stale owner's member in a batch is refused alone", async (t) => {
    const s = b();
    if (!s) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
    if (!opts.fencing) return t.skip(`${harness.label} keeps no fencing tokens (unfenced by design; stale writes are swept)`);
    const [ok, stale] = [v('gc-f-ok'), v('gc-f-stale')];
    await s.writeVersion(v('gc-f-stale', 'the newer owner'), ctxFor('gc-f-saga', 2));
    const out = await s.writeVersionBatch([
      { v: ok, ctx: ctxFor('gc-f-other') },
      { v: stale, ctx: ctxFor('gc-f-saga', 1) },
    ]);
    assert.deepEqual(out.map(codeOf), ['ok', 'STORE_FENCED']);
    assert.deepEqual(
      (await s.listVersions(stale.docId)).map((x) => x.contentSha256),
      [sha256('the newer owner')],
    );
  });

  void it('group commit: a poison document (wrong dimension) fails alone through the coalescer', async (t) => {
    const s = b();
    if (!s) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
    if (store().name !== 'qdrant') return t.skip('a graph store has no per-document input it refuses');
    const good = [v('gc-d1'), v('gc-d2')];
    const poison = makeVersion({ docId: id('gc-dpoison'), body: 'poison', dimension: opts.dimension() + 1 });
    const items = [good[0], poison, good[1]].map((x, i) => ({ v: x as DocumentVersion, ctx: ctxFor(`gc-d-${i}`) }));
    const { outcomes } = await throughCoalescer(
      (its: readonly WriteItem[]) => s.writeVersionBatch(its),
      (i) => i.v.docId,
      items,
    );
    assert.deepEqual(outcomes.map(codeOf), ['ok', 'STORE_PERMANENT', 'ok']);
    for (const g of good) assert.equal((await s.listVersions(g.docId)).length, 1);
    assert.deepEqual(await s.listVersions(poison.docId), []);
  });

  void it(
    'group commit: a timeout mid-batch rejects the batch as a whole (retryable, in doubt)',
    { skip: harness.stallMidCall ? false : `${harness.label} has no connection to stall` },
    async (t) => {
      if (!b()) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
      const err = await harness.stallMidCall?.((st) =>
        (st as unknown as DerivedBatchWrites).writeVersionBatch([
          { v: v('gc-stall-1'), ctx: ctxFor('gc-st-1') },
          { v: v('gc-stall-2'), ctx: ctxFor('gc-st-2') },
        ]),
      );
      assert.ok(isRetryableStoreFailure(err), String(err));
    },
  );
}

export function cacheGroupCommitCases(
  harness: StoreHarness<CacheStore> & { fencing?: boolean },
  store: () => CacheStore,
  id: (name: string) => string,
): void {
  const b = (): (CacheStore & CacheBatchWrites) | undefined => batched(store(), 'putBatch', 'removeBatch');
  const fencing = harness.fencing ?? !harness.label.startsWith('sqlite-');
  const entry = (name: string, body: string): Parameters<CacheStore['put']>[0] => ({
    docId: id(name),
    title: name,
    contentSha256: sha256(body),
    chunkCount: 1,
    metadata: {},
  });

  void it("group commit: put/remove batches with a stale owner's member: one outcome per key", async (t) => {
    const s = b();
    if (!s) return t.skip(`${harness.label} has no batched calls (not coalesced)`);
    const [e1, e2, stale] = [entry('gc-c1', 'one'), entry('gc-c2', 'two'), entry('gc-cstale', 'old')];
    if (fencing) await s.put(entry('gc-cstale', 'new'), ctxFor('gc-c-saga', 2));
    const put = await s.putBatch([
      { entry: e1, ctx: ctxFor('gc-c-1') },
      { entry: stale, ctx: ctxFor('gc-c-saga', 1) },
      { entry: e2, ctx: ctxFor('gc-c-2') },
    ]);
    assert.deepEqual(put.map(codeOf), ['ok', fencing ? 'STORE_FENCED' : 'ok', 'ok']);
    assert.deepEqual(await s.get(e1.docId), e1);
    if (fencing) assert.equal((await s.get(stale.docId))?.contentSha256, sha256('new'));
    const removed = await s.removeBatch([
      { docId: e1.docId, contentSha256: e1.contentSha256, ctx: ctxFor('gc-c-1') },
      { docId: e2.docId, contentSha256: sha256('other') },
    ]);
    assert.deepEqual(removed.map(codeOf), ['ok', 'ok']);
    assert.equal(await s.get(e1.docId), undefined);
    assert.deepEqual(await s.get(e2.docId), e2, 'a removal of another version leaves the entry');
  });

  void it(
    'group commit: a timeout mid-batch rejects the batch as a whole (retryable, in doubt)',
    { skip: harness.stallMidCall ? false : `${harness.label} has no connection to stall` },
    async () => {
      const err = await harness.stallMidCall?.((st) =>
        (st as unknown as CacheBatchWrites).putBatch([
          { entry: entry('gc-stall-1', 'x'), ctx: ctxFor('gc-st-1') },
          { entry: entry('gc-stall-2', 'y'), ctx: ctxFor('gc-st-2') },
        ]),
      );
      assert.ok(isRetryableStoreFailure(err) && (err as StoreError).code === 'STORE_TIMEOUT', String(err));
    },
  );
}
