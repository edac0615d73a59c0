// The operator of a reindex in the deterministic simulation (sim-world.ts, sim-reindex.ts): the
// `switching`, `rollback` and `rechunk-switching` worlds run the real transitions of
// src/ingest/reindex/control.ts as the CLI runs them, while the writers go on:
//
//   20% of the sagas started: `apex-memory reindex` (the loop, src/ingest/reindex/run.ts) under
//       traffic; at 40% the writers stop starting sagas until theirs ended (a drain: `--switch`
//       refuses unless `--verify` is clean, and 12 lanes on 12 documents always leave some
//       document between its vector write and its cleanup); once the loop ended, the loop again
//       and `--switch`, repeated while verify refuses; the writers resume on the record they
//       cached before the switch (the processes keep it until a crash replaces them).
//   70% (`rollback`): `--rollback`, under traffic.
//   `finishing`: right after the switch, `--finish` under traffic (it waits out the record cache,
//       then drops the old collection); one writer's process lives through the whole world, so a
//       process started before the switch keeps writing after the drop.
//
// After each transition, once the record cache (the product's 1 s) has expired: a process started
// before the switch reads from the active collection (VectorTargets.reader), and the alias
// `<base>_live` points at it.
import assert from 'node:assert/strict';
import { IndexRecord, RECORD_CACHE_MS } from '../../src/ingest/reindex/record.js';
import { finishReindex, liveAlias, rollbackReindex, switchReindex, type ControlDeps } from '../../src/ingest/reindex/control.js';
import { runReindex } from '../../src/ingest/reindex/run.js';
import { errorCode } from '../../src/lib/errors.js';
import type { VectorTargets } from '../../src/ingest/reindex/targets.js';
import type { SagaDefinition, SagaEngine } from '../../src/saga/index.js';
import type { ReindexInput } from '../../src/ingest/sagas/reindex-saga.js';
import type { StoreSet } from '../../src/stores/types.js';
import { SIM_BASE, type SimIndex } from './sim-reindex.js';

/** Where the loop starts, the switch is done, and the rollback (fractions of the sagas started). */
const LOOP_AT = 0.2;
const SWITCH_AT = 0.4;
const ROLLBACK_AT = 0.7;
/** Loop + `--switch` attempts once the writers are drained, before the world fails. */
const SWITCH_ATTEMPTS = 10;

export interface OperatorProcess {
  stores: StoreSet;
  engine: SagaEngine;
  targets?: VectorTargets;
  reindexDef?: SagaDefinition<ReindexInput, Record<string, unknown>>;
}

export interface OperatorWorld {
  index: SimIndex;
  sagas: number;
  started: () => number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** A fault-free process started now (bound to the active collection); `cacheMs` of its record. */
  spawn: (cacheMs?: number) => OperatorProcess;
  /** Closes (true) or opens the gate before the writers' next sagas; idle: every writer waits at it or is done. */
  gate: (closed: boolean) => void;
  idle: () => boolean;
  sagaIds: () => string;
}

export interface OperatorFigures {
  /** Sagas started when the switch (the rollback, the finish) took effect; -1: not done. */
  switchedAt: number;
  rolledBackAt: number;
  finishedAt: number;
  /** `--switch` attempts refused by verify after the drain. */
  switchRefusals: number;
  /** Reader checks passed (one per transition). */
  readChecks: number;
}

/** Runs the operator of a `switching` or `rollback` world; undefined in the other worlds. */
export async function operate(w: OperatorWorld): Promise<OperatorFigures | undefined> {
  const { index } = w;
  if (index.kind !== 'switching' && index.kind !== 'rollback' && index.kind !== 'finishing') return undefined;
  const figures: OperatorFigures = { switchedAt: -1, rolledBackAt: -1, finishedAt: -1, switchRefusals: 0, readChecks: 0 };
  // A process started before the switch, with the product's record cache: its reads must follow.
  const reader = w.spawn(RECORD_CACHE_MS);
  const waitFor = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await w.sleep(5);
  };
  const checkReads = async (what: string): Promise<void> => {
    await w.sleep(RECORD_CACHE_MS + 1);
    const binding = await reader.targets?.reader();
    assert.equal(binding?.target.collection, index.active.collection, `reads after ${what} do not follow the record`);
    assert.equal(binding.store.dimension, index.active.dimension, `reads after ${what}: the store's dimension`);
    const alias = (await reader.stores.qdrant.listAliases()).find((a) => a.alias === liveAlias(SIM_BASE));
    assert.equal(alias?.collection, index.active.collection, `the alias after ${what}`);
    figures.readChecks++;
  };

  // `finishing`: earlier, so that sagas still start after the drop (--finish waits 2 s first).
  const at = index.kind === 'finishing' ? 0.5 : 1;
  await waitFor(() => w.started() >= w.sagas * LOOP_AT * at);
  const op = w.spawn();
  const { targets, reindexDef } = op;
  if (!targets || !reindexDef) throw new Error('an operator process without targets');
  const deps: ControlDeps = {
    stores: op.stores,
    record: new IndexRecord(index.store, { now: w.now }),
    vectors: op.stores.qdrant,
    base: SIM_BASE,
    sleep: w.sleep,
  };
  const loop = (): Promise<unknown> =>
    runReindex({ stores: op.stores, engine: op.engine, def: reindexDef }, targets.bind(index.neu), {
      concurrency: 2,
      activeChunking: index.active.chunking,
      sagaIds: w.sagaIds,
    });
  const first = loop(); // under traffic
  await waitFor(() => w.started() >= w.sagas * SWITCH_AT * at);
  w.gate(true);
  await first;
  await waitFor(w.idle);
  for (let attempt = 1; ; attempt++) {
    await loop();
    try {
      await switchReindex(deps);
      break;
    } catch (err) {
      if (errorCode(err) !== 'REINDEX_VERIFY_FAILED' || attempt >= SWITCH_ATTEMPTS) throw err;
      figures.switchRefusals++;
    }
  }
  figures.switchedAt = w.started();
  assert.equal((await index.refresh()).phase, 'switched');
  w.gate(false);
  if (index.kind === 'finishing') {
    await finishReindex(deps); // under traffic: waits out the record cache, then drops
    figures.finishedAt = w.started();
    assert.equal((await index.refresh()).phase, 'steady');
    await checkReads('--finish');
    return figures;
  }
  if (index.kind !== 'rollback') {
    await checkReads('--switch');
    return figures;
  }

  await waitFor(() => w.started() >= w.sagas * ROLLBACK_AT);
  await rollbackReindex(deps); // under traffic: no verify needed, the old index was dual-written
  figures.rolledBackAt = w.started();
  assert.equal((await index.refresh()).phase, 'migrating');
  await checkReads('--rollback');
  return figures;
}
