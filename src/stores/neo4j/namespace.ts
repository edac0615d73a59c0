// Namespaces in Neo4j (APEX_NAMESPACE, docs/deploy.md "Namespaces"). Community Edition has one
// database, so a namespace's nodes carry labels of their own: `<ns>_Document`, `<ns>_Chunk`,
// `<ns>_Entity`, `<ns>_WriteFence`, `<ns>_ApexSchema`, with constraints and indexes named
// `apex_<ns>_...` on those labels. Why labels rather than a `namespace` property on every node:
//  - the deployment without a namespace keeps its labels, constraints and queries byte for byte:
//    no migration of existing data, and no cost on its queries;
//  - each namespace's uniqueness constraints are the same single-property constraints as today,
//    on its own labels (no composite keys), so its MERGEs use the same index lookups;
//  - a query cannot forget the namespace in one MATCH: every statement's labels are rewritten in
//    one place (the transaction and schema runners), not in each of ~50 statements.
// Relationship types are not rewritten: they only ever join nodes of one namespace.
import type { ManagedTransaction } from 'neo4j-driver';

/** Rewrites one Cypher statement (or a schema rule's name) into a namespace. */
export type Cypher = (statement: string) => string;

const LABELS = /:(Document|Chunk|Entity|WriteFence|ApexSchema)\b/g;
const RULE_NAMES = /\bapex_(document_id|chunk_id|entity_name|chunk_doc|chunk_version|write_fence)\b/g;
const NAMESPACE = /^[a-z][a-z0-9_]{0,30}$/;

export const noNamespace: Cypher = (statement) => statement;

export function namespaceCypher(namespace: string | undefined): Cypher {
  if (namespace === undefined) return noNamespace;
  if (!NAMESPACE.test(namespace)) throw new Error(`namespace must match ${NAMESPACE.source}`);
  return (statement) => statement.replace(LABELS, `:${namespace}_$1`).replace(RULE_NAMES, `apex_${namespace}_$1`);
}

/** The transaction with every statement rewritten into the namespace (the same object without one). */
export function namespacedTx(tx: ManagedTransaction, cypher: Cypher): ManagedTransaction {
  if (cypher === noNamespace) return tx;
  const run: ManagedTransaction['run'] = (query, parameters) => tx.run(typeof query === 'string' ? cypher(query) : query, parameters);
  return new Proxy(tx, {
    get(target, prop) {
      if (prop === 'run') return run;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
