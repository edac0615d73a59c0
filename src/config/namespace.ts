// APEX_NAMESPACE (issue 24 item 5): several deployments (staging and production, two tenants) share
// one PostgreSQL, Neo4j, Qdrant and Redis without seeing each other. Unset, every name is exactly
// what it was before namespaces existed, so an existing deployment sees no change and migrates
// nothing. Set, the namespace selects (docs/deploy.md "Namespaces"):
//   PostgreSQL  schema `apex_<ns>` for the documents AND the saga log (search_path / schema name)
//   Qdrant      collection `apex_<ns>_chunks`
//   Redis       keys `apex:<ns>:{<len>:<id>}:doc` ... and `apex:<ns>:keys-version`
//   Neo4j       labels `<ns>_Document`, `<ns>_Chunk`, ... and constraints `apex_<ns>_...`
//   embedded    data directory `<APEX_DATA_DIR>/<ns>/` (PGlite, SQLite stand-ins, SQLite saga log)
// The rule keeps every derived name a plain identifier in each store (no quoting, no glob or
// hash-tag characters in Redis keys, no ':' that would let one namespace's keys look like another's).
import { ConfigError } from './numeric.js';

export const NAMESPACE_RULE = /^[a-z][a-z0-9_]{0,30}$/;

/**
 * `saga` would put a namespace's tables into `apex_saga`, the saga log schema of the deployment
 * without a namespace: the two would share one log.
 */
const RESERVED = new Set(['saga']);

/** The validated namespace, or undefined when unset or empty. */
export function namespaceFromEnv(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (!NAMESPACE_RULE.test(value))
    throw new ConfigError(
      'APEX_NAMESPACE',
      `APEX_NAMESPACE must match ${NAMESPACE_RULE.source} (a lowercase letter, then up to 30 lowercase letters, digits ` +
        `or '_'), got ${JSON.stringify(value.slice(0, 40))}`,
    );
  if (RESERVED.has(value))
    throw new ConfigError('APEX_NAMESPACE', `APEX_NAMESPACE ${JSON.stringify(value)} is reserved (the saga log schema apex_saga)`);
  return value;
}

/** The PostgreSQL schema of a namespace's documents and saga log. */
export function namespaceSchema(ns: string): string {
  return `apex_${ns}`;
}

/** The Qdrant collection of a namespace (the base name; the vector adapter keeps its own suffixes). */
export function namespaceCollection(ns: string): string {
  return `apex_${ns}_chunks`;
}
