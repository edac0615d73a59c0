// The collection's layout on a distributed Qdrant (issue 24): shards, replicas, and how many
// replicas must apply a write before it is acknowledged. Set when the collection is created
// (`connect`, also when a write finds the collection gone); an existing collection keeps its own
// layout (Qdrant changes replication only through its cluster API, shards not at all).
//
// Write ordering: every upsert and delete of this adapter is sent with `ordering: medium`.
//  - `weak` (Qdrant's default) lets replicas apply operations in different orders. A saga's
//    compensation deletes the points its write upserted; a replica that receives the delete
//    before the upsert it undoes keeps the points, which then show up on that replica only.
//  - `medium` sends each operation through the shard's current leader, which orders them; only a
//    leader change can briefly reorder. `strong` would go through one fixed peer and make every
//    write fail while that peer is down, turning the loss of one node into a saga outage.
// Qdrant is not fenced here (no conditional write): a stale owner's late upsert can land whatever
// the ordering. Those points are never read (reads are keyed by PostgreSQL's version) and the
// stale-write sweeper, then `verify`/`repair`, remove them (docs/stores.md, Fencing). `medium` only
// keeps the saga's own write-then-compensate sequence in order across replicas, which the sweeper
// would not look for.
// On a single node (the tests' Qdrant Edge front) all three orderings behave the same.
import type { Schemas } from '@qdrant/js-client-rest';

export const QDRANT_WRITE_ORDERING: Schemas['WriteOrdering'] = 'medium';

export interface QdrantLayout {
  /** shard_number (QDRANT_SHARDS); unset: Qdrant's default (1 standalone, the node count in a cluster). */
  shards?: number;
  /** replication_factor (QDRANT_REPLICATION_FACTOR); unset: 1. */
  replicationFactor?: number;
  /** write_consistency_factor (QDRANT_WRITE_CONSISTENCY); unset: 1. */
  writeConsistency?: number;
}

/** The creation parameters to send: only those set, so an unset one keeps the server's default. */
export function layoutParams(
  layout: QdrantLayout,
): Pick<Schemas['CreateCollection'], 'shard_number' | 'replication_factor' | 'write_consistency_factor'> {
  return {
    ...(layout.shards !== undefined ? { shard_number: layout.shards } : {}),
    ...(layout.replicationFactor !== undefined ? { replication_factor: layout.replicationFactor } : {}),
    ...(layout.writeConsistency !== undefined ? { write_consistency_factor: layout.writeConsistency } : {}),
  };
}
