// Fault drills for a whole process: APEX_INJECT_FAULTS='{"neo4j":{"random":{...}}, ...}' wraps the
// named stores with withFaults (src/stores/faults.ts), so a real `apex-memory worker` can be run
// against failing stores (the observability acceptance test does; so can a staging drill).
// Never set in production: the worker says so on stderr whenever it is active.
import { withFaults, type FaultOptions } from './faults.js';
import type { StoreName, StoreSet } from './types.js';

export const FAULTS_ENV = 'APEX_INJECT_FAULTS';
const NAMES: readonly StoreName[] = ['postgres', 'neo4j', 'qdrant', 'redis'];

export function injectFaultsFromEnv(stores: StoreSet, env: NodeJS.ProcessEnv, warn: (line: string) => void): StoreSet {
  const raw = env[FAULTS_ENV];
  if (raw === undefined || raw.trim() === '') return stores;
  let spec: Partial<Record<StoreName, FaultOptions>>;
  try {
    spec = JSON.parse(raw) as Partial<Record<StoreName, FaultOptions>>;
  } catch {
    throw new Error(`${FAULTS_ENV} is not valid JSON`);
  }
  const out: StoreSet = { ...stores };
  for (const name of NAMES) {
    const options = spec[name];
    if (!options) continue;
    warn(`${FAULTS_ENV}: injecting faults into ${name} (a drill; never in production)`);
    (out as unknown as Record<StoreName, object>)[name] = withFaults(stores[name], options).store;
  }
  return out;
}
