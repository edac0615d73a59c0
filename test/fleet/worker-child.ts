// A fleet worker for the crash tests: opens the app from the environment the parent set and runs
// the worker loop until SIGTERM (graceful) or SIGKILL. What it prints on stdout, one per line:
//   OWNER <owner>            once the app is open and the loop started
//   FENCED <sagaId>          the engine stopped a saga because another owner took it (onFenced)
//   LEASE_LOST <sagaId>      the engine stopped a saga because its lease could not be renewed in time
//   APPEND_FENCED <sagaId>   the saga log refused an append of this owner (SAGA_FENCED)
//   STORE_FENCED <sagaId>    PostgreSQL refused a write with this owner's old token
//   STOPPED <json counts>    after a graceful stop
// Every store call that carries a WriteContext is written to APEX_FLEET_CALLS (synchronously, so
// a SIGKILL loses nothing already started): "S <id> <saga> <store> <method> <token> <t>" before
// and "E <id> <t> <ok or error code>" after, t in epoch ms; the parent checks that two tokens never overlap.
//
// Environment: APEX_FLEET_CONFIG (ProfileConfig JSON), APEX_FLEET_SAGA_LOG_URL (overrides the
// config's saga log, e.g. through a proxy), APEX_FLEET_LEASE_MS, APEX_FLEET_CONCURRENCY,
// APEX_FLEET_POLL_MS, APEX_FLEET_FAULT_SEED + APEX_FLEET_FAULT_RATE (permanent faults on the Neo4j
// and Qdrant writes: those sagas compensate), APEX_FLEET_DELAY_MS + APEX_FLEET_DELAY_STORE (each
// write to that store, default postgres, waits this long first, so a pause lands inside a step),
// APEX_FLEET_RENEW_DELAY_MS (lease renewals wait this long first: a slow link to the saga log, so
// a resumed stale owner reaches the stores before its heartbeat learns that the lease moved on).
import { closeSync, openSync, writeSync } from 'node:fs';
import { openApp } from '../../src/app.js';
import type { ProfileConfig } from '../../src/config/profile.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { WorkerLoop } from '../../src/fleet/worker-loop.js';
import { onStopSignal } from '../../src/fleet/signals.js';
import { withFaults } from '../../src/stores/faults.js';
import type { StoreSet } from '../../src/stores/types.js';
import { recordCalls } from './record-calls.js';

const env = process.env;
const num = (name: string, fallback: number): number => (env[name] ? Number(env[name]) : fallback);
const configText = env.APEX_FLEET_CONFIG;
if (!configText) throw new Error('APEX_FLEET_CONFIG is required');
const config = JSON.parse(configText) as ProfileConfig;
if (env.APEX_FLEET_SAGA_LOG_URL) config.sagaLogUrl = env.APEX_FLEET_SAGA_LOG_URL;
const callsFd = env.APEX_FLEET_CALLS ? openSync(env.APEX_FLEET_CALLS, 'a') : undefined;
const faultRate = num('APEX_FLEET_FAULT_RATE', 0);
const faultSeed = num('APEX_FLEET_FAULT_SEED', 1);
const delayMs = num('APEX_FLEET_DELAY_MS', 0);
const delayedStore = env.APEX_FLEET_DELAY_STORE ?? 'postgres';
const say = (line: string): void => void process.stdout.write(`${line}\n`);

process.on('unhandledRejection', (err) => {
  say(`UNHANDLED ${err instanceof Error ? err.message : String(err)}`);
  process.exit(70);
});

function wrap(stores: StoreSet): StoreSet {
  const recorded = recordCalls(stores, {
    write: (line) => {
      if (callsFd !== undefined) writeSync(callsFd, `${line}\n`);
    },
    onFenced: (sagaId) => say(`STORE_FENCED ${sagaId}`),
    delayMs: (store) => (store === delayedStore ? delayMs : 0),
  });
  if (faultRate <= 0) return recorded;
  const faulty = <K extends 'neo4j' | 'qdrant'>(k: K, method: string, seed: number): StoreSet[K] =>
    withFaults(recorded[k], { random: { seed, rate: faultRate, methods: [method], when: 'either', retryableShare: 0 } }).store;
  return { ...recorded, neo4j: faulty('neo4j', 'writeVersion', faultSeed), qdrant: faulty('qdrant', 'writeVersion', faultSeed + 7919) };
}

const app = await openApp({
  config,
  embedder: new HashingEmbedder(),
  leaseMs: num('APEX_FLEET_LEASE_MS', 2_000),
  wrapStores: wrap,
  hooks: { onFenced: (e) => say(`FENCED ${e.sagaId}`), onLeaseLost: (e) => say(`LEASE_LOST ${e.sagaId}`) },
});

// Observe the log's refusals of this owner's appends (the engine only sees them as errors).
const log = app.profile.log;
const renewDelayMs = num('APEX_FLEET_RENEW_DELAY_MS', 0);
if (renewDelayMs > 0) {
  const renew = log.renew.bind(log);
  log.renew = async (...args) => {
    await new Promise((r) => setTimeout(r, renewDelayMs));
    return renew(...args);
  };
}
const append = log.append.bind(log);
log.append = async (req) => {
  try {
    await append(req);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SAGA_FENCED') say(`APPEND_FENCED ${req.sagaId}`);
    throw err;
  }
};

const loop = new WorkerLoop({
  engine: app.engine,
  concurrency: num('APEX_FLEET_CONCURRENCY', 16),
  pollMs: num('APEX_FLEET_POLL_MS', 100),
  maxBackoffMs: 1_000,
  warn: (line) => void process.stderr.write(`${line}\n`),
  logWaits: app.logWaits,
});
let stopping: Promise<void> | undefined;
onStopSignal(() => {
  stopping = loop.stop({ graceMs: num('APEX_FLEET_GRACE_MS', 5_000) });
});
say(`OWNER ${app.engine.owner}`);
await loop.start();
await stopping;
say(`STOPPED ${JSON.stringify(loop.counts())}`);
await app.close();
if (callsFd !== undefined) closeSync(callsFd);
process.exit(0);
