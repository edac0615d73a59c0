// Which store operation each step of the memory sagas performs (forward, and its compensation),
// shown on the saga page beside the step. Keyed by step name: the names are shared by the ingest
// plans (`ingest`, `ingest_adr`) and the delete saga (src/ingest/sagas/). A step not listed here
// (another saga definition) simply has no description.
export interface StepOperation {
  forward: string;
  compensation: string | null;
}

export const STEP_OPERATIONS: Readonly<Record<string, StepOperation>> = {
  postgres_pending: {
    forward: 'PostgreSQL: write the version pending (row ingestion_status pending for a new document, chunks)',
    compensation: 'PostgreSQL: discard the pending version',
  },
  neo4j_write: { forward: 'Neo4j: MERGE Document, Chunks, Entities of the version', compensation: "Neo4j: remove this saga's version" },
  qdrant_write: { forward: 'Qdrant: upsert the chunk points of the version', compensation: "Qdrant: remove this saga's version" },
  postgres_commit: { forward: 'PostgreSQL: commit the version (the pivot)', compensation: null },
  redis_write: { forward: 'Redis: put the cache entry', compensation: 'Redis: restore the committed entry' },
  cleanup_previous: { forward: 'Neo4j, Qdrant, PostgreSQL: remove the superseded version', compensation: null },
  postgres_mark_deleting: { forward: "PostgreSQL: ingestion_status 'deleting'", compensation: "PostgreSQL: back to 'committed'" },
  redis_delete: { forward: 'Redis: remove the cache entry', compensation: 'Redis: put the committed entry back' },
  neo4j_delete: { forward: 'Neo4j: remove the document', compensation: 'Neo4j: rewrite the committed version from PostgreSQL' },
  qdrant_delete: { forward: 'Qdrant: remove the points', compensation: 'Qdrant: rewrite the committed version from PostgreSQL' },
  postgres_delete: { forward: 'PostgreSQL: delete the row and its chunks (the pivot)', compensation: null },
};

export function operationOf(step: string, phase: 'forward' | 'compensation'): string | null {
  const op = STEP_OPERATIONS[step];
  if (!op) return null;
  return phase === 'forward' ? op.forward : op.compensation;
}
