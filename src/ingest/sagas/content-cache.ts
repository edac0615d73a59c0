// The staged content of the sagas this process runs, kept in memory beside its copy in PostgreSQL
// (saga_inputs, content.ts). Without it, every step that needs the document (postgres_pending,
// neo4j_write, qdrant_write, redis_write) read it back from PostgreSQL: four round trips per
// document that the bench showed as the most frequent store call of an ingest (issue 18).
//
// Why it is safe: a saga's staged content never changes (keyed by saga id, written once before
// the saga begins) and is removed only when the saga has ended (its last action, the writer, the
// sweep, an erasure of ended sagas). So while a saga runs, the memory copy equals the row. A saga
// resumed elsewhere (a crash, a fleet worker) misses here and reads PostgreSQL as before.
//
// Bounded: at most `maxBytes` of text (oldest first out); a document larger than that is not kept.
import type { ValidDocument } from '../schema.js';

export const DEFAULT_CONTENT_CACHE_BYTES = 64 * 1024 * 1024;
/** How many "already dropped" marks are remembered (a fleet worker's sagas never consume theirs). */
const MAX_DROPPED_MARKS = 10_000;

function sizeOf(doc: ValidDocument): number {
  return 2 * (doc.id.length + doc.title.length + doc.text.length) + 2 * JSON.stringify(doc.metadata).length + 64;
}

export class StagedContentCache {
  private readonly docs = new Map<string, { doc: ValidDocument; sha: string; bytes: number }>();
  private readonly dropped = new Set<string>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_CONTENT_CACHE_BYTES) {}

  /**
   * The content staged for `sagaId`, if this process holds it for `docId` with content hash `sha`
   * (the saga's logged input). A caller that reused a saga id with other content (the row in
   * PostgreSQL keeps the first) misses here and reads the row.
   */
  get(sagaId: string, docId: string, sha: string): ValidDocument | undefined {
    const hit = this.docs.get(sagaId);
    return hit?.doc.id === docId && hit.sha === sha ? hit.doc : undefined;
  }

  /** Keeps `doc` (content hash `sha`) as the staged content of `sagaId`. */
  put(sagaId: string, doc: ValidDocument, sha: string): void {
    const bytes = sizeOf(doc);
    if (bytes > this.maxBytes) return;
    this.forget(sagaId);
    while (this.bytes + bytes > this.maxBytes) {
      const oldest = this.docs.keys().next();
      if (oldest.done) break;
      this.forget(oldest.value);
    }
    this.docs.set(sagaId, { doc, sha, bytes });
    this.bytes += bytes;
  }

  /** The saga ended or no longer needs its content. */
  forget(sagaId: string): void {
    const e = this.docs.get(sagaId);
    if (!e) return;
    this.docs.delete(sagaId);
    this.bytes -= e.bytes;
  }

  /** The saga's own last action removed its staged row (so the writer need not remove it again). */
  markDropped(sagaId: string): void {
    this.forget(sagaId);
    if (this.dropped.size >= MAX_DROPPED_MARKS) {
      const oldest = this.dropped.values().next();
      if (!oldest.done) this.dropped.delete(oldest.value);
    }
    this.dropped.add(sagaId);
  }

  /** True once per saga whose last action removed its staged row in this process. */
  takeDropped(sagaId: string): boolean {
    return this.dropped.delete(sagaId);
  }

  /** Bytes held (tests). */
  get heldBytes(): number {
    return this.bytes;
  }
}
