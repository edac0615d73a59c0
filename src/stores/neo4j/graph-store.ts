// Neo4j adapter: (:Document {id})-[:HAS_CHUNK]->(:Chunk {id, doc_id, content_sha256, idx})-[:MENTIONS]->(:Entity {name}).
// Every write MERGEs (idempotent) in one managed write transaction with a server-side timeout.
// Writes that carry a WriteContext are fenced first, in that same transaction: see raiseFence.
import neo4j from 'neo4j-driver';
import type { Driver, ManagedTransaction } from 'neo4j-driver';
import { StoreError } from '../errors.js';
import { classifyNeo4jError } from './errors.js';
import { chunkParams, dropChunking as dropChunkingTx, LOCK_ENTITIES, storedVersion } from './chunkings.js';
import { DEFAULT_TIMEOUT_MS, withTimeout } from '../timeout.js';
import type {
  DocIdPage,
  DocumentVersion,
  FenceRef,
  GraphStore,
  HealthReport,
  SchemaProblem,
  StoredFence,
  StoredVersion,
  WriteContext,
} from '../types.js';
import type { DerivedBatchWrites, Outcomes, RemoveVersionItem, WriteItem } from '../batch-types.js';
import { removeVersionBatch, writeVersionBatch } from './batch.js';
import { dropFences, scanFences } from './fences.js';
import { namespaceCypher, namespacedTx, type Cypher } from './namespace.js';
import { checkSchema, ensureSchema, mergeDuplicates, SCHEMA_MISSING, schemaMarked, schemaStatements } from './schema.js';

export interface Neo4jStoreOptions {
  /** neo4j://host:port (routing: the default, a cluster or one server) or bolt://host:port (direct). */
  url: string;
  user?: string;
  password?: string;
  database?: string;
  /** Transaction timeout per call (server-side), default 10 s. */
  timeoutMs?: number;
  /** How long the driver itself retries transient failures inside one call; the saga retries too. */
  maxRetryTimeMs?: number;
  /** APEX_NAMESPACE: this deployment's labels and constraints (namespace.ts); unset = today's. */
  namespace?: string;
}

/**
 * Locks this saga's fence node for the document, then raises its token to ours unless a newer
 * token already wrote. Neo4j reads are read-committed, so the token is read only after the write
 * lock is held (the `_lock` SET): otherwise two owners could both read the old token and the lower
 * one could write after the higher. Returns the token found before ours (null on first write).
 */
const RAISE_FENCE = `
MERGE (f:WriteFence {doc_id: $docId, saga_id: $sagaId})
SET f._lock = true
WITH f, f.fencing_token AS current
SET f.fencing_token = CASE WHEN current IS NOT NULL AND current > $token THEN current ELSE $token END,
    f.written_at = timestamp()
REMOVE f._lock
RETURN current`;

/*
 * Lock order. Concurrent sagas share Entity nodes, and Neo4j write-locks both ends of a
 * relationship it creates or deletes, in the order the query reaches them. Documents listing the
 * same entities in different orders used to deadlock (Neo.TransientError.Transaction.DeadlockDetected,
 * issue 15). Every write and removal now takes its locks in one global order, each group sorted:
 *   1. this saga's WriteFence node (only owners of the same saga share it),
 *   2. the Entity nodes, by name (code-unit order, computed here, never by the server),
 *   3. the Document node,
 *   4. the Chunk nodes, by idx (a writer and a remover of one document are already serialized by 3).
 * Later relationship locks then fall on nodes already held. The `_lock` property is set and
 * removed in the same statement: it exists only to take the node's write lock.
 *
 * A writer that found a node and then waited for its lock may get it after a remover deleted the
 * node (reads are read-committed). Neo4j then lets the SET pass silently, so the writer MERGEs the
 * node again after the lock: that sees the deletion and creates it anew instead of linking a
 * chunk to a deleted entity (which failed with EntityNotFound or lost the MENTIONS edge).
 */

/** Writes: write-locks the entities in the order of $names (sorted), creating missing ones. */
const LOCK_ENTITIES_FOR_WRITE = `
UNWIND $names AS name
MERGE (locked:Entity {name: name})
SET locked._lock = true
REMOVE locked._lock
WITH name
MERGE (:Entity {name: name})`;

/** Removals: the same order, on the entities that exist (a removal creates nothing). */
const LOCK_DOCUMENT_FOR_WRITE = 'MERGE (d:Document {id: $docId}) SET d._lock = true REMOVE d._lock';
const LOCK_DOCUMENT_FOR_REMOVAL = 'MATCH (d:Document {id: $docId}) SET d._lock = true REMOVE d._lock';

/** Chunks in idx order ($chunks is sorted), then their mentions, onto entities already locked.
 * A new statement: its MERGEs see what a remover committed while we waited for the locks. */
const WRITE_VERSION = `
MERGE (d:Document {id: $docId})
WITH d
UNWIND $chunks AS c
MERGE (ch:Chunk {id: c.id})
SET ch.doc_id = $docId, ch.content_sha256 = $sha, ch.idx = c.idx, ch.chunking = c.chunking
MERGE (d)-[:HAS_CHUNK]->(ch)
WITH ch, c
UNWIND c.entities AS name
MERGE (e:Entity {name: name})
MERGE (ch)-[:MENTIONS]->(e)`;

/** The names of the entities that the matched chunks mention: what a removal must lock. */
const mentionedBy = (match: string): string => `
MATCH ${match}-[:MENTIONS]->(e:Entity)
RETURN DISTINCT e.name AS name`;

/** Deletes the matched chunks in idx order, then the entities they alone mentioned (shared ones stay). */
const removeChunks = (match: string): string => `
MATCH ${match}
WITH c ORDER BY c.idx
OPTIONAL MATCH (c)-[:MENTIONS]->(e:Entity)
WITH collect(DISTINCT c) AS chunks, collect(DISTINCT e) AS ents
FOREACH (c IN chunks | DETACH DELETE c)
WITH ents
UNWIND ents AS e
WITH e WHERE NOT (e)<-[:MENTIONS]-()
DELETE e`;

const VERSION_CHUNKS = '(c:Chunk {doc_id: $docId, content_sha256: $sha})';
const ALL_CHUNKS = '(c:Chunk {doc_id: $docId})';
const VERSION_ENTITIES = mentionedBy(VERSION_CHUNKS);
const ALL_ENTITIES = mentionedBy(ALL_CHUNKS);
const REMOVE_VERSION = removeChunks(VERSION_CHUNKS);
const REMOVE_ALL_CHUNKS = removeChunks(ALL_CHUNKS);
const REMOVE_EMPTY_DOCUMENT = 'MATCH (d:Document {id: $docId}) WHERE NOT (d)-[:HAS_CHUNK]->() DETACH DELETE d';

export { classifyNeo4jError } from './errors.js';

function describeBoltUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '7687'}`;
  } catch {
    return 'an unparsable NEO4J_URL';
  }
}

/**
 * The fence check of a fenced write or compensation. A newer owner of the same saga that wrote or
 * compensated here leaves a higher token; our late call must then change nothing, so we throw and
 * the managed transaction rolls back everything it ran.
 */
async function raiseFence(tx: ManagedTransaction, docId: string, ctx: WriteContext): Promise<void> {
  const res = await tx.run(RAISE_FENCE, { docId, sagaId: ctx.sagaId, token: neo4j.int(ctx.fencingToken) });
  const current: unknown = res.records[0]?.get('current');
  if (typeof current === 'number' && current > ctx.fencingToken) {
    throw new StoreError(
      'neo4j',
      'STORE_FENCED',
      `saga ${ctx.sagaId} token ${ctx.fencingToken} is stale for document ${JSON.stringify(docId)} (fence at ${current})`,
    );
  }
}

function sortedUnique(names: readonly string[]): string[] {
  // Code-unit order, the same for every process (no locale): the lock order must be global.
  return [...new Set(names)].sort();
}

/**
 * A removal takes the entity and document locks in the global order before deleting anything;
 * DETACH DELETE then only locks nodes already held (and the chunks, which come last anyway). The
 * names are read first: reads take no locks, and a version's chunks always mention the same set.
 */
async function lockForRemoval(tx: ManagedTransaction, entitiesQuery: string, params: Record<string, unknown>): Promise<void> {
  const res = await tx.run(entitiesQuery, params);
  const names = sortedUnique(res.records.map((r) => String(r.get('name'))));
  if (names.length > 0) await tx.run(LOCK_ENTITIES, { names });
  await tx.run(LOCK_DOCUMENT_FOR_REMOVAL, params);
}

export class Neo4jGraphStore implements GraphStore, DerivedBatchWrites {
  readonly name = 'neo4j' as const;
  readonly backend = 'neo4j';
  private readonly driver: Driver;
  /** Shared by every session of this store: see "Causal reads" below. */
  private readonly bookmarks = neo4j.bookmarkManager();
  private readonly options: Neo4jStoreOptions;
  private readonly timeoutMs: number;
  private readonly schema: ReturnType<typeof schemaStatements>;
  private readonly cypher: Cypher;

  constructor(options: Neo4jStoreOptions) {
    this.options = options;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const auth = options.user ? neo4j.auth.basic(options.user, options.password ?? '') : undefined;
    this.driver = neo4j.driver(options.url, auth, {
      disableLosslessIntegers: true, // idx and counts are small; plain numbers keep callers simple
      maxTransactionRetryTime: options.maxRetryTimeMs ?? 3_000,
      connectionTimeout: Math.min(this.timeoutMs, 5_000),
      connectionAcquisitionTimeout: this.timeoutMs,
    });
    this.cypher = namespaceCypher(options.namespace);
    this.schema = schemaStatements({
      open: () => this.session(),
      timeoutMs: this.timeoutMs,
      classify: classifyNeo4jError,
      cypher: this.cypher,
    });
  }

  /*
   * Causal reads (issue 24). Every read this adapter makes is a consistency read: the pre-reads
   * of a saga (what versions exist before it writes or removes), `verify` and `repair`. On a
   * cluster a read sent to a follower that has not applied the last commit yet would report a
   * version missing (false drift) or make repair rewrite what is already there. Two things keep
   * that from happening:
   *  - one bookmark manager per store instance (so per process) is given to every session, write
   *    and read: each transaction starts after the last one this process committed (the server
   *    waits until it has applied that bookmark), so a read sees this process's own writes;
   *  - reads are routed like writes, to the database's leader (executeWrite with a read-only
   *    query): a `verify` or `repair` started in another process has no bookmark of the ingest's
   *    writes, and the leader is the one member that has applied every committed transaction.
   *    After an election the new leader is brought up to date by the bookmark of the process's
   *    last transaction before it answers.
   * The cost on a single server is nil (one bookmark string per BEGIN); on a cluster, reads do not
   * spread over the followers, which is right for a write path whose reads all check writes.
   */
  private session(): ReturnType<Driver['session']> {
    return this.driver.session({
      defaultAccessMode: neo4j.session.WRITE,
      bookmarkManager: this.bookmarks,
      ...(this.options.database ? { database: this.options.database } : {}),
    });
  }

  /** One managed transaction per call; the client-side guard outlasts the server-side timeout.
   * `mode` is what the call does; both run on the leader (see "Causal reads"). */
  private async tx<T>(
    what: string,
    mode: 'READ' | 'WRITE',
    work: (tx: ManagedTransaction) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return withTimeout(
      'neo4j',
      what,
      this.timeoutMs + 2_000,
      async () => {
        const session = this.session();
        try {
          return await session.executeWrite((t) => work(namespacedTx(t, this.cypher)), {
            timeout: this.timeoutMs,
            metadata: { apex: `${mode.toLowerCase()} ${what}` },
          });
        } catch (err) {
          throw classifyNeo4jError(err, what);
        } finally {
          await session.close().catch(() => undefined);
        }
      },
      signal,
    );
  }

  /** Schema rules that could not be created at the last attempt (reported by health; see schema.ts). */
  private schemaFailures: string[] = [];
  private schemaRun: Promise<string[]> | undefined;

  /** Creates the schema; a rule that cannot be created is reported, not thrown (verify, repair must run). */
  async connect(): Promise<void> {
    await this.ensureSchemaOnce();
  }

  /** One schema creation at a time per process: concurrent writes that find no marker share it. */
  private ensureSchemaOnce(): Promise<string[]> {
    this.schemaRun ??= ensureSchema(this.schema.create)
      .then((failed) => (this.schemaFailures = failed))
      .finally(() => (this.schemaRun = undefined));
    return this.schemaRun;
  }

  checkSchema(): Promise<SchemaProblem[]> {
    return checkSchema(this.schema.run, this.cypher);
  }

  /** Merges duplicate nodes, then creates the rules and the marker; throws if a rule still fails. */
  async repairSchema(): Promise<string[]> {
    const done = await mergeDuplicates(this.schema.run);
    const failed = await this.ensureSchemaOnce();
    if (failed.length > 0) throw new StoreError('neo4j', 'STORE_PERMANENT', `schema: ${failed.join('; ')}`);
    return done;
  }

  async health(): Promise<HealthReport> {
    try {
      const info = await withTimeout('neo4j', 'health', this.timeoutMs, () => this.driver.getServerInfo());
      const where = `${info.agent ?? 'neo4j'} at ${describeBoltUrl(this.options.url)}`;
      if (this.schemaFailures.length > 0)
        return { ok: false, detail: `${where}: schema incomplete (${this.schemaFailures.join('; ')}); run \`apex-memory repair\`` };
      return { ok: true, detail: where };
    } catch (err) {
      return { ok: false, detail: `neo4j at ${describeBoltUrl(this.options.url)}: ${classifyNeo4jError(err, 'health').message}` };
    }
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  /**
   * Locks in the global order (see "Lock order" above): fence, entities, document, chunks. First,
   * in the same transaction, the schema marker: without it (a new, emptied or replaced database)
   * the uniqueness constraints may be missing and the MERGEs could double entities, so nothing is
   * written; the schema is created again and the write retried once (schema.ts).
   */
  async writeVersion(v: DocumentVersion, ctx: WriteContext): Promise<void> {
    const chunks = chunkParams(v);
    const names = sortedUnique(v.chunks.flatMap((c) => c.entities));
    const write = (): Promise<boolean> =>
      this.tx(
        'writeVersion',
        'WRITE',
        async (tx) => {
          if (!(await schemaMarked(tx))) return false;
          await raiseFence(tx, v.docId, ctx);
          await tx.run(LOCK_ENTITIES_FOR_WRITE, { names });
          await tx.run(LOCK_DOCUMENT_FOR_WRITE, { docId: v.docId });
          await tx.run(WRITE_VERSION, { docId: v.docId, sha: v.contentSha256, chunks });
          return true;
        },
        ctx.signal,
      );
    if (await write()) return;
    const failed = await this.ensureSchemaOnce();
    if (failed.length === 0 && (await write())) return;
    // Retryable: the saga rides it out within its outage budget; `repair` makes it pass.
    throw new StoreError(
      'neo4j',
      'STORE_TRANSIENT',
      `writeVersion refused: ${SCHEMA_MISSING} (a new, emptied or replaced database?)${failed.length > 0 ? ` and cannot be created: ${failed.join('; ')}; run \`apex-memory repair\`` : ''}`,
    );
  }

  /**
   * Many documents in one transaction (neo4j/batch.ts); fence per member. The schema marker is read
   * first, as in writeVersion: a batch never MERGEs entities while the constraints may be missing.
   */
  async writeVersionBatch(items: readonly WriteItem[]): Outcomes {
    const write = () =>
      this.tx('writeVersionBatch', 'WRITE', async (tx) => ((await schemaMarked(tx)) ? writeVersionBatch(tx, items) : undefined));
    const first = await write();
    if (first) return first;
    const failed = await this.ensureSchemaOnce();
    const again = failed.length === 0 ? await write() : undefined;
    if (again) return again;
    // The whole batch is refused as retryable: each member rides it out by its own step policy.
    throw new StoreError(
      'neo4j',
      'STORE_TRANSIENT',
      `writeVersionBatch refused: ${SCHEMA_MISSING} (a new, emptied or replaced database?)${failed.length > 0 ? ` and cannot be created: ${failed.join('; ')}; run \`apex-memory repair\`` : ''}`,
    );
  }

  removeVersionBatch(items: readonly RemoveVersionItem[]): Outcomes {
    return this.tx('removeVersionBatch', 'WRITE', (tx) => removeVersionBatch(tx, items));
  }

  /** With `ctx` (a saga's compensation) fenced like a write; without it (operator cleanup) not. */
  async removeVersion(docId: string, contentSha256: string, ctx?: WriteContext): Promise<void> {
    const params = { docId, sha: contentSha256 };
    await this.tx(
      'removeVersion',
      'WRITE',
      async (tx) => {
        if (ctx) await raiseFence(tx, docId, ctx);
        await lockForRemoval(tx, VERSION_ENTITIES, params);
        await tx.run(REMOVE_VERSION, params);
        await tx.run(REMOVE_EMPTY_DOCUMENT, params);
      },
      ctx?.signal,
    );
  }

  async removeDocument(docId: string, ctx?: WriteContext): Promise<void> {
    await this.tx(
      'removeDocument',
      'WRITE',
      async (tx) => {
        if (ctx) await raiseFence(tx, docId, ctx);
        await lockForRemoval(tx, ALL_ENTITIES, { docId });
        await tx.run(REMOVE_ALL_CHUNKS, { docId });
        await tx.run(REMOVE_EMPTY_DOCUMENT, { docId });
      },
      ctx?.signal,
    );
  }

  /** Unfenced: see RelationalWrites.dropChunking (the caller keeps sagas off that chunking). */
  async dropChunking(docIds: readonly string[], chunking: number): Promise<number> {
    if (docIds.length === 0) return 0;
    return this.tx('dropChunking', 'WRITE', (tx) => dropChunkingTx(tx, docIds, chunking));
  }

  listVersions(docId: string): Promise<StoredVersion[]> {
    return this.tx('listVersions', 'READ', async (tx) => {
      const res = await tx.run(
        'MATCH (c:Chunk {doc_id: $docId}) RETURN c.content_sha256 AS sha, coalesce(c.chunking, 1) AS k, count(c) AS n ORDER BY sha, k',
        { docId },
      );
      return res.records.map((r) => storedVersion(docId, r.get('sha'), r.get('k'), r.get('n')));
    });
  }

  listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    return this.tx('listDocIds', 'READ', async (tx) => {
      const res = await tx.run('MATCH (d:Document) WHERE $after IS NULL OR d.id > $after RETURN d.id AS id ORDER BY id LIMIT $limit', {
        after: afterId,
        limit: neo4j.int(limit),
      });
      return res.records.map((r) => String(r.get('id')));
    });
  }

  versionsOf(docIds: readonly string[]): Promise<StoredVersion[]> {
    if (docIds.length === 0) return Promise.resolve([]);
    return this.tx('versionsOf', 'READ', async (tx) => {
      const res = await tx.run(
        `UNWIND $ids AS id MATCH (c:Chunk {doc_id: id})
         RETURN id, c.content_sha256 AS sha, coalesce(c.chunking, 1) AS k, count(c) AS n ORDER BY id, sha, k`,
        { ids: [...docIds] },
      );
      return res.records.map((r) => storedVersion(String(r.get('id')), r.get('sha'), r.get('k'), r.get('n')));
    });
  }

  /** Pages in id order; the cursor is the last id (`d.id > $after` alone lets the index serve it). */
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const docIds = await this.tx('scanDocIds', 'READ', async (tx) => {
      const res =
        cursor === null
          ? await tx.run('MATCH (d:Document) WHERE d.id IS NOT NULL RETURN d.id AS id ORDER BY id LIMIT $limit', {
              limit: neo4j.int(limit),
            })
          : await tx.run('MATCH (d:Document) WHERE d.id > $after RETURN d.id AS id ORDER BY id LIMIT $limit', {
              after: cursor,
              limit: neo4j.int(limit),
            });
      return res.records.map((r) => String(r.get('id')));
    });
    return { docIds, next: docIds.length < limit ? null : (docIds[docIds.length - 1] ?? null) };
  }

  /** The fence sweep's page (neo4j/fences.ts); a write transaction: it stamps legacy fences. */
  scanFences(after: FenceRef | null, limit: number): Promise<StoredFence[]> {
    return this.tx('scanFences', 'WRITE', (tx) => scanFences(tx, after, limit));
  }

  dropFences(fences: readonly StoredFence[]): Promise<number> {
    return this.tx('dropFences', 'WRITE', (tx) => dropFences(tx, fences));
  }

  entities(docId: string, contentSha256: string): Promise<string[]> {
    return this.tx('entities', 'READ', async (tx) => {
      const res = await tx.run(
        `MATCH (c:Chunk {doc_id: $docId, content_sha256: $sha})-[:MENTIONS]->(e:Entity)
         RETURN DISTINCT e.name AS name ORDER BY name`,
        { docId, sha: contentSha256 },
      );
      return res.records.map((r) => String(r.get('name')));
    });
  }
}

export function createNeo4jStore(options: Neo4jStoreOptions): Neo4jGraphStore {
  return new Neo4jGraphStore(options);
}
