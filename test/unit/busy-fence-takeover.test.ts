// The user-level sequence behind "a refusal keeps the fence raised" (docs/stores.md), with the
// real engine, MemoryWriter and ingest saga on in-process stores (PGlite, the SQLite stand-ins)
// and three "processes" on one memory saga log:
//  1. process A ingests D (saga S); its first write (putPending, token 1) stalls on the wire;
//  2. process T ingests other content of D (saga T): D is free, T takes it; T's commit stalls;
//  3. an operator cancels S from process B (`sagas cancel`): B takes S over (token 2) and
//     compensates its first step; discardPending is refused STORE_BUSY (T holds D), which the
//     compensation reads as "nothing of S is there", and S ends compensated;
//  4. T's commit lands: T completes and gives D back;
//  5. A's stalled putPending (token 1) lands on the free document.
// Before the fix, B's refusal rolled its fence raise back, so A's write passed the fence: D stayed
// held by S, a saga that had ended (nobody gives it back), with A's pending version in it. Now A is
// refused STORE_FENCED and D is free, holding T's version. No timed assertion: the stalls are gates.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { RelationalStore, StoreSet } from '../../src/stores/types.js';
import { openPgliteRelational } from '../../src/stores/pglite/relational-store.js';
import { openSqliteGraph } from '../../src/stores/sqlite/graph-store.js';
import { openSqliteVector } from '../../src/stores/sqlite/vector-store.js';
import { openSqliteCache } from '../../src/stores/sqlite/cache-store.js';
import { closeStores } from '../support/memory-stores.js';

const embedder = new HashingEmbedder();
let stores: StoreSet;
const dir = mkdtempSync(join(tmpdir(), 'apex-busy-fence-'));
// PGlite in a data directory: a new one is unpacked from the cached initdb template
// (src/stores/pglite/template.ts), several seconds cheaper than an in-memory initdb.
before(async () => {
  stores = {
    postgres: await openPgliteRelational(join(dir, 'postgres')),
    neo4j: await openSqliteGraph(':memory:'),
    qdrant: await openSqliteVector(':memory:', embedder.dimension),
    redis: await openSqliteCache(':memory:'),
  };
});
after(async () => {
  await closeStores(stores);
  rmSync(dir, { recursive: true, force: true });
});

/** A gate on the first call of `method` of this process's PostgreSQL store: `reached` once it is
 * called, the call itself is sent only after `open()`. */
function gated(method: keyof RelationalStore): { stores: StoreSet; reached: Promise<void>; open: () => void } {
  let reach: () => void = () => undefined;
  let open: () => void = () => undefined;
  const reached = new Promise<void>((r) => (reach = r));
  const opened = new Promise<void>((r) => (open = r));
  let first = true;
  const postgres = new Proxy(stores.postgres, {
    get(t, prop, recv) {
      const v: unknown = Reflect.get(t, prop, recv);
      if (prop !== method || typeof v !== 'function') return v;
      return async (...args: unknown[]) => {
        if (first) {
          first = false;
          reach();
          await opened;
        }
        return (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
      };
    },
  });
  return { stores: { ...stores, postgres }, reached, open };
}

test(
  'a lost owner whose newer owner was refused busy and ended the saga cannot take the document afterwards',
  { timeout: 60_000 },
  async () => {
    const log = new MemorySagaLog();
    const processOn = (view: StoreSet): { engine: SagaEngine; writer: MemoryWriter } => {
      const engine = new SagaEngine({ log, leaseMs: 60_000, heartbeatMs: 0 });
      return { engine, writer: new MemoryWriter({ stores: view, engine, embedder, stepTimeoutMs: 30_000 }) };
    };
    const docId = 'busy-fence-doc';
    const doc = (text: string) => ({ id: docId, title: 'Busy fence', text, metadata: {} });
    const aView = gated('putPending');
    const tView = gated('commit');
    const a = processOn(aView.stores);
    const t = processOn(tView.stores);
    const b = processOn(stores);

    const aRun = a.writer.ingest(doc('Version of process A about Project Atlas.')).catch((err: unknown) => err);
    await aView.reached; // 1. S's first write is on the wire, not applied
    const [s] = (await log.list({}, { limit: 10 })).sagas;
    assert.ok(s, 'saga S started');
    const tRun = t.writer.ingest(doc('Version of process T about Redis Cluster.'));
    await tView.reached; // 2. T holds D, its commit on the wire
    const tSaga = (await log.list({}, { limit: 10 })).sagas.find((x) => x.sagaId !== s.sagaId);
    assert.ok(tSaga, 'saga T started');
    assert.equal(await stores.postgres.holderOf(docId), tSaga.sagaId, 'T holds D');

    const cancelled = await b.engine.cancel(s.sagaId, 'operator: sagas cancel'); // 3.
    assert.equal(cancelled.status, 'compensated', JSON.stringify(cancelled));

    tView.open(); // 4.
    const tDone = await tRun;
    assert.equal(tDone.status, 'completed');
    assert.equal(await stores.postgres.holderOf(docId), undefined, 'T gave D back');

    aView.open(); // 5. the lost owner's late write
    await aRun;
    await a.engine.idle();
    assert.equal(await stores.postgres.holderOf(docId), undefined, 'D is not held by the ended saga S');
    assert.deepEqual(await stores.postgres.getPendingVersions(docId), [], "the lost owner's version did not land");
    const tSha = ((await log.load(tSaga.sagaId))?.input as { sha?: string } | undefined)?.sha;
    assert.equal((await stores.postgres.getDocument(docId))?.contentSha256, tSha, "D holds T's version");
    assert.deepEqual(
      (await verifyStores(stores)).violations.filter((v) => v.docId === docId),
      [],
    );
    for (const p of [a, t, b]) await p.engine.close();
  },
);
