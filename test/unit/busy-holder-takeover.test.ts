// A write that meets a dead run's saga holding its document after its pre-check (clearHolder saw
// the document free, then the other run took it and died) takes that saga over and finishes it
// while its own first step waits, instead of waiting out its whole budget and giving up
// (holder.ts BusyHolders; the finding of the CI-time work: nothing took the dead saga over during
// the wait). Two engines ("processes") on one memory saga log and one set of stores (PGlite and
// the SQLite stand-ins); A dies at its second store write with the document held, B's first write
// of the same document starts right after A took it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { contentSha256 } from '../../src/ingest/prepare.js';
import type { StoreSet } from '../../src/stores/types.js';
import { closeStores, openMemoryStores } from '../support/memory-stores.js';

const embedder = new HashingEmbedder();
let stores: StoreSet;
before(async () => {
  stores = await openMemoryStores(embedder.dimension);
});
after(() => closeStores(stores));

const doc = (v: number) => ({ id: 'held-doc', title: 'Held', text: `Version ${v} of a document about Vega and Lumen.`, metadata: {} });

/** `stores` with one method of one store replaced. */
function withCall<K extends keyof StoreSet>(
  store: K,
  method: string,
  replace: (orig: (...a: unknown[]) => Promise<unknown>, args: unknown[]) => Promise<unknown>,
): StoreSet {
  const target = stores[store];
  const wrapped = new Proxy(target, {
    get(t, prop, recv) {
      const v: unknown = Reflect.get(t, prop, recv);
      if (prop !== method || typeof v !== 'function') return v;
      return (...args: unknown[]) => replace((...a: unknown[]) => (v as (...x: unknown[]) => Promise<unknown>).apply(t, a), args);
    },
  });
  return { ...stores, [store]: wrapped };
}

test('a saga that took the document after the pre-check and died is taken over while the next write waits', async () => {
  const log = new MemorySagaLog();
  // A: its lease is not renewed (heartbeatMs 0) and its Neo4j write does not return until the
  // test ends: a process that died holding the document (the step's timeout is longer).
  let die: (err: Error) => void = () => undefined;
  const dead = new Promise<never>((_, reject) => (die = reject));
  const aStores = withCall('neo4j', 'writeVersion', () => dead);
  const a = new SagaEngine({ log, leaseMs: 300, heartbeatMs: 0 });
  const aWriter = new MemoryWriter({ stores: aStores, engine: a, embedder, stepTimeoutMs: 120_000 });
  let aRun: Promise<unknown> | undefined;
  // B: right before its first write of the document, A takes it (after B's pre-check saw it free).
  let first = true;
  const bStores = withCall('postgres', 'putPending', async (orig, args) => {
    if (first) {
      first = false;
      aRun = aWriter.ingest(doc(1));
      while ((await stores.postgres.holderOf('held-doc')) === undefined) await new Promise((r) => setTimeout(r, 5));
    }
    return orig(...args);
  });
  const b = new SagaEngine({ log, leaseMs: 10_000 }); // B lives: a long lease, renewed
  // B's first step gives up after 30 attempts (budget 0: about 25 s) if nobody ends A's saga.
  const bWriter = new MemoryWriter({ stores: bStores, engine: b, embedder, stepTimeoutMs: 5_000, outage: { defaultMs: 0 } });
  try {
    const out = await bWriter.ingest(doc(2));
    console.log(`B's write: ${out.status} in ${Math.round(out.durationMs)} ms`);
    assert.equal(out.status, 'completed', `B's write: ${JSON.stringify(out)}`);
    const row = await stores.postgres.getDocument('held-doc');
    assert.equal(row?.ingestionStatus, 'committed');
    assert.equal(row?.contentSha256, contentSha256(doc(2)), "B's version is the committed one: it wrote last");
    assert.equal(await stores.postgres.holderOf('held-doc'), undefined, 'nobody holds the document');
    // A's saga was finished by B (its steps ran again there) before B's own write, which came last.
    const aSagas = (await log.list({ key: 'held-doc' }, { limit: 10 })).sagas;
    assert.ok(
      aSagas.every((s) => s.status === 'completed' || s.status === 'compensated'),
      `every saga of the document ended: ${JSON.stringify(aSagas.map((s) => [s.sagaId, s.status]))}`,
    );
    assert.equal(aSagas.length, 2);
    assert.deepEqual((await verifyStores(stores)).violations, []);
  } finally {
    await b.close();
    die(new Error('process A is gone')); // its stalled request ends, so that its engine can close
    await a.close();
    void aRun?.catch(() => undefined);
  }
});
