// Property test of the same-document rule, with the real write path on in-process engines (PGlite,
// the SQLite stand-ins, the memory saga log): 2 or 3 writes (ingests of different content, deletes)
// of one document start at once, each from its own engine ("process"), on top of a committed or an
// absent document. One engine may "crash" at a random store call: it either dies there (that call
// and everything after it never happen) or stalls past its lease while the call is in flight and
// lands it after another engine took its saga over (a stale write, unfenced in the vector store).
// Leases are short and not renewed, so they also expire under live owners mid-step. A fresh engine
// (a new process taking the dead one's place) recovers whatever has an expired lease: from the
// moment an engine dies while the others still run (as a fleet worker or `serve` would; without it
// a live write waiting for the document a dead saga holds waits out its first step's 60 s budget,
// which made this test take minutes), and after them until nothing is left. Then: verify reports 0,
// and the document holds what the last completed saga left (test/support/last-writer.ts). Replay
// with FC_SEED=<seed>.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemorySagaLog } from '../../src/log/memory.js';
import { SagaEngine, type SagaLog } from '../../src/saga/index.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { MemoryWriter } from '../../src/ingest/writer.js';
import { StaleWriteSweeper } from '../../src/ingest/stale-sweeper.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { StoreSet } from '../../src/stores/types.js';
import { closeStores, openMemoryStores } from '../support/memory-stores.js';
import { checkLastWriterWins } from '../support/last-writer.js';

const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : Math.floor(Math.random() * 2 ** 31);
const runs = Number(process.env.FC_RUNS ?? 15);
console.log(`same-document property test: FC_SEED=${seed} FC_RUNS=${runs}`);

const LEASE_MS = 120;
const embedder = new HashingEmbedder();
let stores: StoreSet;

before(async () => {
  stores = await openMemoryStores(embedder.dimension);
});
after(() => closeStores(stores));

type Op = { kind: 'ingest'; variant: number } | { kind: 'delete' };
interface Crash {
  writer: number;
  atCall: number;
  mode: 'dies' | 'stale';
}

const never = new Promise<never>(() => undefined);

/** A "process": its own view of the stores and the log, which can die at a chosen store call. */
function processView(
  log: SagaLog,
  crash: Crash | undefined,
  onDeath: () => void,
): { stores: StoreSet; log: SagaLog; landStale: () => void } {
  let calls = 0;
  let dead = false;
  let landStale: () => void = () => undefined;
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop, recv) {
        const v: unknown = Reflect.get(t, prop, recv);
        if (
          typeof v !== 'function' ||
          typeof prop !== 'string' ||
          !/^(put|commit|write|upsert|remove|discard|mark|unmark|delete|acquire|release|finish)/.test(prop)
        )
          return v;
        return (...args: unknown[]) => {
          if (dead) return never;
          calls++;
          if (crash && calls === crash.atCall) {
            dead = true;
            onDeath();
            if (crash.mode === 'dies') return never;
            // Stalled with the request built: it lands once another owner has taken over (once:
            // later calls of landStale find it landed).
            return new Promise((res, rej) => {
              landStale = () => {
                landStale = () => undefined;
                void (v as (...a: unknown[]) => Promise<unknown>).apply(t, args).then(res, rej);
              };
            }).then(() => never);
          }
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  const deadLog = new Proxy(log, {
    get(t, prop, recv) {
      const v: unknown = Reflect.get(t, prop, recv);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (dead ? never : (v as (...a: unknown[]) => unknown).apply(t, args));
    },
  });
  return {
    stores: { postgres: wrap(stores.postgres), neo4j: wrap(stores.neo4j), qdrant: wrap(stores.qdrant), redis: wrap(stores.redis) },
    log: deadLog,
    landStale: () => landStale(),
  };
}

let caseNo = 0;
async function runCase(initial: number | null, ops: Op[], crash: Crash | undefined): Promise<void> {
  const docId = `prop-${caseNo++}`;
  const log = new MemorySagaLog();
  const doc = (variant: number) => ({
    id: docId,
    title: `Doc ${docId}`,
    text: `Variant ${variant} of ${docId} about Project Atlas and Redis Cluster.`,
    metadata: {},
  });
  const sweepers: StaleWriteSweeper[] = [];
  const engineOn = (view: { stores: StoreSet; log: SagaLog }) => {
    const engine = new SagaEngine({ log: view.log, leaseMs: LEASE_MS, heartbeatMs: 0 });
    const writer = new MemoryWriter({ stores: view.stores, engine, embedder, stepTimeoutMs: 1_000 });
    const sweeper = new StaleWriteSweeper(stores, log, { initialDelayMs: 30, retryMs: 20, giveUpMs: 5_000 });
    engine.addHooks(sweeper.hooks);
    sweepers.push(sweeper);
    return { engine, writer };
  };
  if (initial !== null) {
    const setup = engineOn({ stores, log });
    assert.equal((await setup.writer.ingest(doc(initial))).status, 'completed');
  }
  let died: () => void = () => undefined;
  const death = new Promise<void>((r) => (died = r));
  const views = ops.map((_, i) => processView(log, crash?.writer === i ? crash : undefined, died));
  const writers = views.map((v) => engineOn(v));
  for (const w of writers) w.engine.addHooks({ onTakeover: () => views.forEach((v) => v.landStale()) });
  const runs = ops.map((op, i) => {
    const w = writers[i];
    if (!w) throw new Error('no writer');
    return op.kind === 'delete' ? w.writer.delete(docId) : w.writer.ingest(doc(op.variant));
  });
  const finisher = engineOn({ stores, log });
  const round = async (landStale: boolean): Promise<void> => {
    if (landStale) views.forEach((v) => v.landStale());
    await new Promise((r) => setTimeout(r, LEASE_MS + 10));
    await finisher.engine.recover({ limit: 10 });
    await finisher.engine.idle();
  };
  // The crashed writer never returns; the others must, whatever the crashed one left. Once one
  // has died, the new process recovers beside them; while they run, a stalled write lands when
  // this process takes its saga over (as when a writer does), not later: landing after the live
  // writes went on would be a late Qdrant removal after a later commit, the open issue of
  // docs/RELIABILITY.md ("coalesced simulation with stalled owners"), which this test does not
  // target. After them it lands as before: at each round, after the taken-over saga finished.
  let liveDone = false;
  finisher.engine.addHooks({ onTakeover: () => void (liveDone || views.forEach((v) => v.landStale())) });
  const live = Promise.all(runs.filter((_, i) => i !== crash?.writer).map((r) => r.catch(() => undefined))).then(() => {
    liveDone = true;
  });
  await Promise.race([live, death]);
  let inFlight: Promise<void> | undefined;
  while (!liveDone) await Promise.race([live, (inFlight = round(false))]);
  await inFlight; // one round at a time: a second recover would take over this engine's own sagas
  for (let n = 0; n < 40; n++) {
    await round(true);
    if ((await log.count({ status: 'running' })) + (await log.count({ status: 'compensating' })) === 0) break;
  }
  for (let i = 0; i < 200 && sweepers.some((s) => s.pending > 0); i++) await new Promise((r) => setTimeout(r, 10));
  const label = `FC_SEED=${seed} case ${docId} initial=${String(initial)} ops=${JSON.stringify(ops)} crash=${JSON.stringify(crash)}`;
  assert.equal(await log.count({ status: 'running' }), 0, `a saga is still running: ${label}`);
  const report = await verifyStores(stores);
  assert.deepEqual(
    report.violations.filter((v) => v.docId === docId),
    [],
    label,
  );
  await checkLastWriterWins({ profile: { log }, stores }, label, 0);
}

const opArb = fc.oneof(
  fc.record({ kind: fc.constant<'ingest'>('ingest'), variant: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant<'delete'>('delete') }),
);

test('same document: concurrent ingests and deletes with a crash or a stale owner at any store call', { timeout: 600_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.option(fc.integer({ min: 0, max: 3 }), { nil: null }),
      fc.array(opArb, { minLength: 2, maxLength: 3 }),
      fc.option(
        fc.record({
          writer: fc.integer({ min: 0, max: 2 }),
          atCall: fc.integer({ min: 1, max: 14 }),
          mode: fc.constantFrom<'dies' | 'stale'>('dies', 'stale'),
        }),
        { nil: undefined },
      ),
      async (initial, ops, crash) => runCase(initial, ops, crash && crash.writer < ops.length ? crash : undefined),
    ),
    { seed, numRuns: runs, endOnFailure: true },
  );
});
