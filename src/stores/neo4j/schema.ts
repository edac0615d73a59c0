// Neo4j's schema (uniqueness constraints, indexes) and the marker node that says it is in place.
//
// Why a marker (issue 22): the schema used to be created at connect only. A Neo4j that came back
// empty while processes ran (a replaced or restored volume, a new server on the same port) had
// neither data nor constraints, and the running ingest's entity MERGEs, without the uniqueness
// constraint, created duplicate Entity names. Creating the constraint then failed
// (ConstraintCreationFailed) and, since connect threw, no command could start, `verify` and
// `repair` included. Now:
//  - connect creates the rules, then the marker (:ApexSchema {id: 'apex'}). A rule that cannot be
//    created (duplicates) is reported by `health` and `verify`; connect does not throw for it, so
//    `verify` and `repair` run.
//  - every entity write reads the marker in its own transaction first. An empty or replaced
//    database has no marker: the write is refused (retryable) and the adapter creates the schema
//    again; once that succeeds, the write runs. While it cannot succeed (duplicates left by an
//    earlier race) every entity write is refused, retryable, until `repair` merges the duplicates.
//  - `verify` reports missing rules and duplicate nodes; `repair` merges duplicates, then creates
//    the rules and the marker.
// The marker is created only after all rules exist, so "marker present" means "constraints were
// created in this database". A rule dropped by hand while the marker stays is not seen by writes;
// `verify` reports it (checkSchema).
import type { ManagedTransaction, Session } from 'neo4j-driver';
import type { SchemaProblem } from '../types.js';
import { noNamespace, type Cypher } from './namespace.js';

export const SCHEMA_RULES: ReadonlyArray<{ name: string; statement: string }> = [
  { name: 'apex_document_id', statement: 'CREATE CONSTRAINT apex_document_id IF NOT EXISTS FOR (d:Document) REQUIRE d.id IS UNIQUE' },
  { name: 'apex_chunk_id', statement: 'CREATE CONSTRAINT apex_chunk_id IF NOT EXISTS FOR (c:Chunk) REQUIRE c.id IS UNIQUE' },
  { name: 'apex_entity_name', statement: 'CREATE CONSTRAINT apex_entity_name IF NOT EXISTS FOR (e:Entity) REQUIRE e.name IS UNIQUE' },
  { name: 'apex_chunk_doc', statement: 'CREATE INDEX apex_chunk_doc IF NOT EXISTS FOR (c:Chunk) ON (c.doc_id)' },
  { name: 'apex_chunk_version', statement: 'CREATE INDEX apex_chunk_version IF NOT EXISTS FOR (c:Chunk) ON (c.doc_id, c.content_sha256)' },
  // One fence node per (document, saga): concurrent first writers MERGE the same node, never two.
  {
    name: 'apex_write_fence',
    statement: 'CREATE CONSTRAINT apex_write_fence IF NOT EXISTS FOR (f:WriteFence) REQUIRE (f.doc_id, f.saga_id) IS UNIQUE',
  },
];

/** The uniqueness rules and the key each one guards (what a duplicate looks like). */
const UNIQUE_KEYS: ReadonlyArray<{ rule: string; label: string; key: string }> = [
  { rule: 'apex_document_id', label: 'Document', key: 'n.id' },
  { rule: 'apex_chunk_id', label: 'Chunk', key: 'n.id' },
  { rule: 'apex_entity_name', label: 'Entity', key: 'n.name' },
  { rule: 'apex_write_fence', label: 'WriteFence', key: "n.doc_id + ' / ' + n.saga_id" },
];

const MARKER_ID = 'apex';
/** No parameters: it runs through `create`, which retries it like the rules (a loaded server). */
const SET_MARKER = `MERGE (m:ApexSchema {id: '${MARKER_ID}'}) SET m.created_at = coalesce(m.created_at, datetime())`;
const READ_MARKER = 'OPTIONAL MATCH (m:ApexSchema {id: $id}) RETURN count(m) AS n';

/** Why a write was refused: the database has no schema marker (new, emptied or replaced). */
export const SCHEMA_MISSING = 'schema missing';

/** True when the marker is there: read inside a write's own transaction, before its MERGEs. */
export async function schemaMarked(tx: ManagedTransaction): Promise<boolean> {
  const res = await tx.run(READ_MARKER, { id: MARKER_ID });
  return Number(res.records[0]?.get('n') ?? 0) > 0;
}

/** A statement in its own auto-commit session (schema commands cannot share a transaction). */
export type RunStatement = (statement: string, params?: Record<string, unknown>) => Promise<Array<Record<string, unknown>>>;

/** Creates each rule (`create(rule)` handles races) and, if all exist, the marker. Returns the failures. */
export async function ensureSchema(create: (statement: string) => Promise<void>): Promise<string[]> {
  const failed: string[] = [];
  for (const rule of SCHEMA_RULES) {
    try {
      await create(rule.statement);
    } catch (err) {
      failed.push(`${rule.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (failed.length === 0) await create(SET_MARKER);
  return failed;
}

/** Rules missing, the marker missing, and (only where a uniqueness rule is missing) duplicates. */
export async function checkSchema(run: RunStatement, cypher: Cypher = noNamespace): Promise<SchemaProblem[]> {
  const present = new Set<string>();
  for (const show of ['SHOW CONSTRAINTS YIELD name', 'SHOW INDEXES YIELD name']) {
    for (const row of await run(show)) present.add(String(row.name));
  }
  const problems: SchemaProblem[] = [];
  for (const rule of SCHEMA_RULES) {
    const name = cypher(rule.name);
    if (!present.has(name)) problems.push({ kind: 'schema_missing', store: 'neo4j', key: name, detail: `schema rule ${name} is missing` });
  }
  const marked = await run(READ_MARKER, { id: MARKER_ID });
  if (Number(marked[0]?.n ?? 0) === 0)
    problems.push({
      kind: 'schema_missing',
      store: 'neo4j',
      key: 'ApexSchema',
      detail: 'no schema marker: a new, emptied or replaced database',
    });
  // With the constraint in place there can be no duplicates: scan only where it is missing.
  for (const u of UNIQUE_KEYS) {
    if (present.has(cypher(u.rule))) continue;
    const rows = await run(
      `MATCH (n:${u.label}) WITH ${u.key} AS key, count(*) AS copies WHERE copies > 1 RETURN key, copies ORDER BY key LIMIT 1000`,
    );
    for (const row of rows) {
      problems.push({
        kind: 'duplicate_node',
        store: 'neo4j',
        key: `${u.label}:${JSON.stringify(row.key)}`,
        detail: `${String(row.copies)} ${u.label} nodes with ${u.key.replace(/n\./g, '')} = ${JSON.stringify(row.key)}`,
      });
    }
  }
  return problems;
}

/*
 * Merging duplicates: one node of each group is kept, the relationships of the others are moved to
 * it (MERGE: none doubled), then they are deleted. Fences keep the highest token (a stale owner
 * must stay refused). Documents and chunks with one key are the same data (chunk ids are derived
 * from document, version and idx), so nothing is lost; repair then rewrites what PostgreSQL says.
 */
const MERGES: readonly string[] = [
  `MATCH (n:Entity) WITH n.name AS key, collect(n) AS nodes WHERE size(nodes) > 1
   WITH head(nodes) AS keep, tail(nodes) AS dups UNWIND dups AS d
   CALL { WITH keep, d MATCH (c)-[:MENTIONS]->(d) MERGE (c)-[:MENTIONS]->(keep) }
   DETACH DELETE d RETURN count(d) AS merged`,
  `MATCH (n:Chunk) WITH n.id AS key, collect(n) AS nodes WHERE size(nodes) > 1
   WITH head(nodes) AS keep, tail(nodes) AS dups UNWIND dups AS d
   CALL { WITH keep, d MATCH (doc)-[:HAS_CHUNK]->(d) MERGE (doc)-[:HAS_CHUNK]->(keep) }
   CALL { WITH keep, d MATCH (d)-[:MENTIONS]->(e) MERGE (keep)-[:MENTIONS]->(e) }
   DETACH DELETE d RETURN count(d) AS merged`,
  `MATCH (n:Document) WITH n.id AS key, collect(n) AS nodes WHERE size(nodes) > 1
   WITH head(nodes) AS keep, tail(nodes) AS dups UNWIND dups AS d
   CALL { WITH keep, d MATCH (d)-[:HAS_CHUNK]->(c) MERGE (keep)-[:HAS_CHUNK]->(c) }
   DETACH DELETE d RETURN count(d) AS merged`,
  `MATCH (n:WriteFence) WITH n.doc_id AS doc, n.saga_id AS saga, collect(n) AS nodes WHERE size(nodes) > 1
   WITH nodes, reduce(t = null, x IN nodes | CASE WHEN t IS NULL OR x.fencing_token > t THEN x.fencing_token ELSE t END) AS top
   WITH head(nodes) AS keep, tail(nodes) AS dups, top
   SET keep.fencing_token = top
   WITH dups UNWIND dups AS d DETACH DELETE d RETURN count(d) AS merged`,
];

/** Merges every group of duplicates; returns how many nodes were merged away per label. */
export async function mergeDuplicates(run: RunStatement): Promise<string[]> {
  const done: string[] = [];
  for (const [i, statement] of MERGES.entries()) {
    const rows = await run(statement);
    const merged = Number(rows[0]?.merged ?? 0);
    if (merged > 0) done.push(`merged ${merged} duplicate ${['Entity', 'Chunk', 'Document', 'WriteFence'][i] ?? ''} node(s)`);
  }
  return done;
}

/** How schema statements reach the server: each in its own auto-commit session. */
export interface SchemaAccess {
  open(): Session;
  timeoutMs: number;
  classify(err: unknown, what: string): Error & { retryable: boolean };
  /** The namespace's rewrite of every statement (namespace.ts). */
  cypher?: Cypher;
}

/** Attempts per schema rule when concurrent connects deadlock on the schema locks. */
const SCHEMA_ATTEMPTS = 8;
const EXISTS_CODES = /EquivalentSchemaRuleAlreadyExists|IndexAlreadyExists|ConstraintAlreadyExists/;

/**
 * `create`: processes connecting at once to a fresh database race to create the same rules:
 * "already exists" is success, and the schema locks they take may deadlock (a transient error):
 * retried. `run`: one statement, its records as plain objects.
 */
export function schemaStatements(a: SchemaAccess): { create: (statement: string) => Promise<void>; run: RunStatement } {
  const create = async (statement: string): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      const session = a.open();
      try {
        await session.run((a.cypher ?? noNamespace)(statement), {}, { timeout: a.timeoutMs });
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && EXISTS_CODES.test(code)) return;
        const classified = a.classify(err, 'connect');
        if (!classified.retryable || attempt >= SCHEMA_ATTEMPTS) throw classified;
      } finally {
        await session.close().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 50 * attempt + Math.floor(Math.random() * 50)));
    }
  };
  const run: RunStatement = async (statement, params = {}) => {
    const session = a.open();
    try {
      const res = await session.run((a.cypher ?? noNamespace)(statement), params, { timeout: a.timeoutMs });
      return res.records.map((r) => r.toObject() as Record<string, unknown>);
    } catch (err) {
      throw a.classify(err, 'schema');
    } finally {
      await session.close().catch(() => undefined);
    }
  };
  return { create, run };
}
