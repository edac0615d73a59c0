// A refusal after the fence check passed must keep the fence raised (docs/stores.md, Fencing: "A
// refusal keeps the raise"), run on every RelationalStore (PostgreSQL, PGlite, the simulation's
// model store). The race it closes: saga S's owner A (token 1) loses its lease; B takes S over
// (token 2); B's write of D is refused STORE_BUSY (saga T holds D) and B ends S; T gives D back; A,
// still running, takes D for S with token 1. Were the fence still at 1, D would stay held by an
// ended saga (nobody releases it) and A's late writes would land.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../../src/stores/errors.js';
import type { MemberOutcome, RelationalBatchWrites } from '../../../src/stores/batch-types.js';
import type { DocumentVersion, RelationalStore } from '../../../src/stores/types.js';
import { ctxFor, makeVersion, rejectionOf, sha256 } from './fixtures.js';

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (err) {
    return isStoreError(err) ? err.code : `not a StoreError: ${String(err)}`;
  }
}

type Refused = (s: RelationalStore, v: DocumentVersion, ctx: ReturnType<typeof ctxFor>) => Promise<unknown>;

/** Each fenced call a newer owner can make while another saga holds the document. */
const BUSY_CALLS: ReadonlyArray<[string, Refused]> = [
  ['acquire', (s, v, ctx) => s.acquire(v.docId, ctx)],
  ['putPending', (s, v, ctx) => s.putPending(v, ctx)],
  ['commit', (s, v, ctx) => s.commit(v.docId, v.contentSha256, ctx)],
  ['finishVersion', (s, v, ctx) => s.finishVersion(v.docId, null, ctx)],
  ['discardPending with release', (s, v, ctx) => s.discardPending(v.docId, v.contentSha256, ctx, { release: true })],
  ['markDeleting', (s, v, ctx) => s.markDeleting(v.docId, ctx)],
  ['unmarkDeleting', (s, v, ctx) => s.unmarkDeleting(v.docId, ctx)],
];

/** The lost owner (token 1) of `saga` is now refused, and took nothing; the newer owner is not. */
async function assertLostOwnerFenced(s: RelationalStore, v: DocumentVersion, saga: string, what: string): Promise<void> {
  assert.equal(await codeOf(s.acquire(v.docId, ctxFor(saga, 1))), 'STORE_FENCED', `${what}: the lost owner's take`);
  assert.equal(await codeOf(s.putPending(v, ctxFor(saga, 1))), 'STORE_FENCED', `${what}: the lost owner's write`);
  assert.equal(await s.holderOf(v.docId), undefined, `${what}: the lost owner took nothing`);
  assert.equal(await codeOf(s.release(v.docId, ctxFor(saga, 2))), 'ok', `${what}: the newer owner is not fenced`);
}

export function relationalBusyFenceCases(store: () => RelationalStore, id: (name: string) => string): void {
  void it('a write refused STORE_BUSY keeps its fence raised: the lost owner of that saga cannot take the document later', async () => {
    const s = store();
    for (const [i, [what, call]] of BUSY_CALLS.entries()) {
      const holder = makeVersion({ docId: id(`bf-busy-${i}`), body: `the holder's version ${i}` });
      const mine = makeVersion({ docId: holder.docId, body: `the taken-over saga's version ${i}` });
      const [t, saga] = [ctxFor(`bf-t-${i}`), `bf-s-${i}`];
      await s.putPending(holder, t);
      assert.equal(await codeOf(call(s, mine, ctxFor(saga, 2))), 'STORE_BUSY', `${what}: the newer owner is refused busy`);
      assert.equal(await s.holderOf(holder.docId), t.sagaId, `${what}: the refusal changed no holder`);
      assert.deepEqual(
        (await s.getPendingVersions(holder.docId)).map((p) => p.sagaId),
        [t.sagaId],
        `${what}: the refusal wrote nothing`,
      );
      await s.commit(holder.docId, holder.contentSha256, t);
      await s.finishVersion(holder.docId, null, t); // T ends and gives the document back
      await assertLostOwnerFenced(s, mine, saga, what);
      assert.equal((await s.getDocument(holder.docId))?.contentSha256, holder.contentSha256, `${what}: T's version stays`);
    }
  });

  void it('a commit refused STORE_CONFLICT or STORE_PERMANENT keeps its fence raised', async () => {
    const s = store();
    const committed = makeVersion({ docId: id('bf-conflict'), body: 'committed by another saga' });
    const mine = makeVersion({ docId: committed.docId, body: 'expected nothing there' });
    const t = ctxFor('bf-conflict-t');
    await s.putPending(committed, t);
    await s.commit(committed.docId, committed.contentSha256, t);
    await s.finishVersion(committed.docId, null, t);
    const conflict = await rejectionOf(s.commit(mine.docId, mine.contentSha256, ctxFor('bf-conflict-s', 2), null));
    assert.ok(isStoreError(conflict) && conflict.code === 'STORE_CONFLICT', String(conflict));
    await assertLostOwnerFenced(s, mine, 'bf-conflict-s', 'conflict');

    const absent = makeVersion({ docId: id('bf-permanent'), body: 'never written' });
    assert.equal(await codeOf(s.commit(absent.docId, absent.contentSha256, ctxFor('bf-permanent-s', 2))), 'STORE_PERMANENT');
    await assertLostOwnerFenced(s, absent, 'bf-permanent-s', 'no pending version');
    assert.equal(await s.getDocument(absent.docId), undefined, 'the refused commit created nothing');
  });

  void it('a batched member refused busy, in conflict or without a pending version keeps its fence raised', async (t) => {
    const s = store() as RelationalStore & Partial<RelationalBatchWrites>;
    const { putPendingBatch, commitBatch, finishVersionBatch } = s;
    if (!putPendingBatch || !commitBatch || !finishVersionBatch) return t.skip(`${s.backend} has no batched calls (not coalesced)`);
    const holderOf = (n: number): ReturnType<typeof ctxFor> => ctxFor(`bf-bt-${n}`);
    const docs = [0, 1, 2].map((n) => makeVersion({ docId: id(`bf-batch-${n}`), body: `held ${n}` }));
    const mine = docs.map((d, n) => makeVersion({ docId: d.docId, body: `mine ${n}` }));
    const [d0, d1, d2] = docs;
    const [m0, m1, m2] = mine;
    assert.ok(d0 && d1 && d2 && m0 && m1 && m2);
    for (const [n, d] of docs.entries()) await s.putPending(d, holderOf(n));
    const free = makeVersion({ docId: id('bf-batch-free'), body: 'a free member beside them' });
    const put = await putPendingBatch.call(s, [
      { v: m0, ctx: ctxFor('bf-bs-0', 2) },
      { v: free, ctx: ctxFor('bf-bs-free') },
    ]);
    const commits = await commitBatch.call(s, [{ docId: m1.docId, contentSha256: m1.contentSha256, ctx: ctxFor('bf-bs-1', 2) }]);
    const finishes = await finishVersionBatch.call(s, [{ docId: m2.docId, previousSha: null, ctx: ctxFor('bf-bs-2', 2) }]);
    const code = (o: MemberOutcome<unknown>): string => (o.ok ? 'ok' : isStoreError(o.error) ? o.error.code : String(o.error));
    assert.deepEqual([...put.map(code), ...commits.map(code), ...finishes.map(code)], ['STORE_BUSY', 'ok', 'STORE_BUSY', 'STORE_BUSY']);
    for (const [n, d] of docs.entries()) {
      await s.commit(d.docId, d.contentSha256, holderOf(n));
      await s.finishVersion(d.docId, null, holderOf(n));
    }
    for (const [n, m] of mine.entries()) await assertLostOwnerFenced(s, m, `bf-bs-${n}`, `batched member ${n}`);

    // Conflict and no pending version, as members of one commit batch.
    const gone = makeVersion({ docId: id('bf-batch-absent'), body: 'never written' });
    const out = await commitBatch.call(s, [
      { docId: m0.docId, contentSha256: m0.contentSha256, ctx: ctxFor('bf-bc-0', 2), expectedPrevious: null },
      { docId: gone.docId, contentSha256: sha256('never written either'), ctx: ctxFor('bf-bc-1', 2) },
    ]);
    assert.deepEqual(out.map(code), ['STORE_CONFLICT', 'STORE_PERMANENT']);
    await assertLostOwnerFenced(s, m0, 'bf-bc-0', 'batched conflict');
    await assertLostOwnerFenced(s, gone, 'bf-bc-1', 'batched member without a pending version');
    assert.equal(await s.holderOf(free.docId), 'bf-bs-free', 'the free member of the first batch was written');
    await s.discardPending(free.docId, free.contentSha256, ctxFor('bf-bs-free'), { release: true });
  });
}
