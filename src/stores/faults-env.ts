// Fault drills for a whole process: APEX_INJECT_FAULTS='{"neo4j":{"random":{...}}, ...}' wraps the
// named stores with withFaults (src/stores/faults.ts), so a real `apex-memory worker` can be run
// against failing stores (the observability acceptance test does; so can a staging drill).
// `ingest`, `serve` and `worker` all read it the same way (drillStores); serve also shows it in
// /readyz and as a banner on the dashboard, so a rehearsal is never mistaken for an outage.
// Never set in production: each command says so on stderr whenever it is active.
import { withFaults, type FaultOptions } from './faults.js';
import type { StoreName, StoreSet } from './types.js';

export const FAULTS_ENV = 'APEX_INJECT_FAULTS';
const NAMES: readonly StoreName[] = ['postgres', 'neo4j', 'qdrant', 'redis'];

export function injectFaultsFromEnv(stores: StoreSet, env: NodeJS.ProcessEnv, warn: (line: string) => void): StoreSet {
  if (drillStoresFromEnv(env).length === 0) return stores; // also refuses bad JSON and unknown stores
  const spec = JSON.parse(env[FAULTS_ENV] ?? '{}') as Partial<Record<StoreName, FaultOptions>>;
  const out: StoreSet = { ...stores };
  for (const name of NAMES) {
    const options = spec[name];
    if (!options) continue;
    warn(`${FAULTS_ENV}: injecting faults into ${name} (a drill; never in production)`);
    (out as unknown as Record<StoreName, object>)[name] = withFaults(stores[name], options).store;
  }
  return out;
}

/** The stores a drill injects faults into (empty when APEX_INJECT_FAULTS is unset); throws on bad JSON. */
export function drillStoresFromEnv(env: NodeJS.ProcessEnv): StoreName[] {
  const raw = env[FAULTS_ENV];
  if (raw === undefined || raw.trim() === '') return [];
  let spec: unknown;
  try {
    spec = JSON.parse(raw);
  } catch {
    throw new Error(`${FAULTS_ENV} is not valid JSON`);
  }
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    throw new Error(`${FAULTS_ENV} must be a JSON object keyed by store name`);
  const unknown = Object.keys(spec).filter((k) => !(NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`${FAULTS_ENV}: unknown store ${unknown.join(', ')} (stores: ${NAMES.join(', ')})`);
  return NAMES.filter((n) => (spec as Record<string, unknown>)[n]);
}

/** A store wrapper (AppOptions.wrapStores) that injects the drill's faults, then applies `inner`. */
export function drillWrapper(
  env: NodeJS.ProcessEnv,
  warn: (line: string) => void,
  inner: (s: StoreSet) => StoreSet = (s) => s,
): (s: StoreSet) => StoreSet {
  return (stores) => inner(injectFaultsFromEnv(stores, env, warn));
}
