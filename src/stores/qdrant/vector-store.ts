// Qdrant adapter on the official REST client: collection `apex_chunks` (cosine), one point per
// chunk with a deterministic UUIDv5 id and payload {doc_id, content_sha256, idx}. Writes wait for
// the server to apply them (`wait: true`), so a resolved call means the points are searchable.
import { QdrantClient } from '@qdrant/js-client-rest';
import type { Schemas } from '@qdrant/js-client-rest';
import { isStoreError, StoreError } from '../errors.js';
import { pointId } from '../point-id.js';
import { DEFAULT_TIMEOUT_MS, withTimeout } from '../timeout.js';
import type {
  DocIdPage,
  DocumentVersion,
  HealthReport,
  SchemaProblem,
  StoredVersion,
  VectorHit,
  VectorStore,
  WriteContext,
} from '../types.js';
import {
  failed,
  OK,
  type DerivedBatchWrites,
  type MemberOutcome,
  type Outcomes,
  type RemoveVersionItem,
  type WriteItem,
} from '../batch-types.js';
import { errorCode } from '../../lib/errors.js';
import { isMissingCollection } from './collection.js';
import { layoutParams, QDRANT_WRITE_ORDERING, type QdrantLayout } from './layout.js';
import { QdrantCollections } from './collections.js';
import { checkCollectionName, checkDimension } from '../collection-names.js';

export interface QdrantStoreOptions extends QdrantLayout {
  url: string;
  apiKey?: string;
  dimension: number;
  collection?: string;
  timeoutMs?: number;
}

export const QDRANT_COLLECTION = 'apex_chunks';
/** Points per upsert request: bounds request size for large documents. */
const UPSERT_BATCH = 128;
/** Points per upsert request of a coalesced batch (many small documents in one request). */
const UPSERT_BATCH_MANY = 1024;
const SCROLL_PAGE = 256;
/** Scroll page for batched reads (verify): a batch's points in one or a few calls. */
const BATCH_SCROLL_PAGE = 4096;

/** What a read of a missing collection gives (collection.ts). */
const EMPTY_SCROLL: Schemas['ScrollResult'] = { points: [], next_page_offset: null };
const EMPTY_QUERY: Schemas['QueryResponse'] = { points: [] };

interface ChunkPayload {
  doc_id: string;
  content_sha256: string;
  idx: number;
}

/** HTTP 408/429/5xx and network failures are retryable; other 4xx are the request's fault. */
export function classifyQdrantError(err: unknown, what: string): StoreError {
  if (isStoreError(err)) return err;
  const name = err instanceof Error ? err.name : '';
  const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : undefined;
  const cause = (err as { cause?: unknown }).cause;
  const detail = [err instanceof Error ? err.message : String(err), errorCode(cause) ?? ''].filter(Boolean).join(' / ');
  const data = (err as { data?: { status?: { error?: unknown } } }).data;
  const serverError = typeof data?.status?.error === 'string' ? `: ${data.status.error}` : '';
  const summary = `${what} failed${status ? ` (HTTP ${status})` : ''}: ${detail}${serverError}`;
  if (name === 'QdrantClientTimeoutError' || name === 'AbortError')
    return new StoreError('qdrant', 'STORE_TIMEOUT', summary, { cause: err });
  if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return new StoreError('qdrant', 'STORE_PERMANENT', summary, { cause: err });
  }
  // 5xx, 408, 429 (QdrantClientResourceExhaustedError) and fetch/socket failures.
  return new StoreError('qdrant', 'STORE_TRANSIENT', summary, { cause: err });
}

function versionFilter(docId: string, contentSha256?: string): Schemas['Filter'] {
  const must: Schemas['Condition'][] = [{ key: 'doc_id', match: { value: docId } }];
  if (contentSha256 !== undefined) must.push({ key: 'content_sha256', match: { value: contentSha256 } });
  return { must };
}

function payloadOf(point: { payload?: Record<string, unknown> | null }): ChunkPayload | undefined {
  const p = point.payload;
  if (!p || typeof p.doc_id !== 'string' || typeof p.content_sha256 !== 'string' || typeof p.idx !== 'number') return undefined;
  return { doc_id: p.doc_id, content_sha256: p.content_sha256, idx: p.idx };
}

/** Qdrant's next_page_offset (a point id) or undefined at the end. */
function nextOffset(next: unknown): Schemas['ExtendedPointId'] | undefined {
  return typeof next === 'string' || typeof next === 'number' ? next : undefined;
}

export class QdrantVectorStore implements VectorStore, DerivedBatchWrites {
  readonly name = 'qdrant' as const;
  readonly backend = 'qdrant';
  readonly dimension: number;
  private readonly client: QdrantClient;
  private readonly collection: string;
  private readonly timeoutMs: number;
  private readonly where: string;
  private readonly options: QdrantStoreOptions;
  private readonly collections: QdrantCollections;
  /** connect() found the bound name to be an alias: a write that finds it gone must not create a
   * collection under the alias's name (Qdrant dropped the alias with its collection). */
  private aliasBound = false;

  /** `client`: shared by the stores withCollection makes (one connection pool per server). */
  constructor(options: QdrantStoreOptions, client?: QdrantClient) {
    this.dimension = options.dimension;
    this.options = options;
    this.collection = options.collection ?? QDRANT_COLLECTION;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.where = (() => {
      try {
        const u = new URL(options.url);
        return `${u.hostname}:${u.port || '6333'}`;
      } catch {
        return 'an unparsable QDRANT_URL';
      }
    })();
    this.client =
      client ??
      new QdrantClient({
        url: options.url,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
        timeout: this.timeoutMs,
        checkCompatibility: false, // the pinned client is tested against the 1.19 contract
      });
    this.collections = new QdrantCollections(this.client, (what, work) => this.call(what, work), options);
  }

  private call<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    return withTimeout(
      'qdrant',
      what,
      this.timeoutMs + 1_000,
      async () => {
        try {
          return await work();
        } catch (err) {
          throw classifyQdrantError(err, what);
        }
      },
      signal,
    );
  }

  /** A call that finds the collection gone (issue 22): reads see an empty store, removals have nothing to do. */
  private async orEmpty<T>(what: string, empty: T, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await this.call(what, work, signal);
    } catch (err) {
      if (isMissingCollection(err)) return empty;
      throw err;
    }
  }

  async checkSchema(): Promise<SchemaProblem[]> {
    const { exists } = await this.call('checkSchema', () => this.client.collectionExists(this.collection));
    return exists
      ? []
      : [
          {
            kind: 'schema_missing',
            store: 'qdrant',
            key: this.collection,
            detail: `collection ${this.collection} is missing (a new, emptied or replaced Qdrant?)`,
          },
        ];
  }

  async repairSchema(): Promise<string[]> {
    await this.connect();
    return [];
  }

  async connect(): Promise<void> {
    const { exists } = await this.call('connect', () => this.client.collectionExists(this.collection));
    if (exists) {
      // An alias (withCollection on the read alias): its collection was made by ensureCollection,
      // and nothing is created under an alias's name.
      this.aliasBound = await this.collections.isAlias(this.collection);
      if (this.aliasBound) return;
    } else {
      try {
        await this.call('connect', () =>
          this.client.createCollection(this.collection, {
            vectors: { size: this.dimension, distance: 'Cosine' },
            ...layoutParams(this.options),
          }),
        );
      } catch (err) {
        // Another process created it between our check and our create: that is the goal reached.
        const again = await this.call('connect', () => this.client.collectionExists(this.collection));
        if (!again.exists) throw err;
      }
    }
    await this.collections.indexFields('connect', this.collection);
  }

  async health(): Promise<HealthReport> {
    try {
      const { exists } = await this.call('health', () => this.client.collectionExists(this.collection));
      return { ok: exists, detail: `qdrant at ${this.where}, collection ${this.collection} ${exists ? 'present' : 'missing'}` };
    } catch (err) {
      return { ok: false, detail: `qdrant at ${this.where}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  async close(): Promise<void> {
    // The REST client holds no connection that needs closing.
  }

  private badDimension(v: DocumentVersion): StoreError | undefined {
    const c = v.chunks.find((chunk) => chunk.embedding.length !== this.dimension);
    return c
      ? new StoreError(
          'qdrant',
          'STORE_PERMANENT',
          `writeVersion: chunk ${c.idx} has ${c.embedding.length} dimensions, collection has ${this.dimension}`,
        )
      : undefined;
  }

  private pointsOf(v: DocumentVersion): Schemas['PointStruct'][] {
    return v.chunks.map((c) => ({
      id: pointId(v.docId, v.contentSha256, c.idx),
      vector: c.embedding,
      payload: { doc_id: v.docId, content_sha256: v.contentSha256, idx: c.idx },
    }));
  }

  async writeVersion(v: DocumentVersion, ctx: WriteContext): Promise<void> {
    const bad = this.badDimension(v);
    if (bad) throw bad;
    const points = this.pointsOf(v);
    for (let i = 0; i < points.length; i += UPSERT_BATCH) {
      const batch = points.slice(i, i + UPSERT_BATCH);
      const upsert = (): Promise<unknown> =>
        this.call(
          'writeVersion',
          () => this.client.upsert(this.collection, { wait: true, ordering: QDRANT_WRITE_ORDERING, points: batch }),
          ctx.signal,
        );
      // A Qdrant that came back without the collection: create it again (connect), then write.
      await upsert().catch(async (err: unknown) => {
        if (!isMissingCollection(err) || this.aliasBound) throw err;
        await this.connect();
        await upsert();
      });
    }
  }

  /** Many documents' points in one upsert (or a few, of UPSERT_BATCH_MANY points). Unfenced, like
   * writeVersion: a stale owner's points are swept (docs/documents.md). */
  async writeVersionBatch(items: readonly WriteItem[]): Outcomes {
    const outcomes: Array<MemberOutcome<void>> = items.map(({ v }) => {
      const bad = this.badDimension(v);
      return bad ? failed(bad) : OK;
    });
    const points = items.flatMap(({ v }, i) => (outcomes[i]?.ok ? this.pointsOf(v) : []));
    for (let i = 0; i < points.length; i += UPSERT_BATCH_MANY) {
      const batch = points.slice(i, i + UPSERT_BATCH_MANY);
      const upsert = (): Promise<unknown> =>
        this.call('writeVersionBatch', () =>
          this.client.upsert(this.collection, { wait: true, ordering: QDRANT_WRITE_ORDERING, points: batch }),
        );
      // As writeVersion: a Qdrant that came back without the collection gets it again first.
      await upsert().catch(async (err: unknown) => {
        if (!isMissingCollection(err) || this.aliasBound) throw err;
        await this.connect();
        await upsert();
      });
    }
    return outcomes;
  }

  /** One delete by filter: any of the items' (doc_id, content_sha256) versions. */
  async removeVersionBatch(items: readonly RemoveVersionItem[]): Outcomes {
    if (items.length > 0) {
      const filter: Schemas['Filter'] = { should: items.map((it) => versionFilter(it.docId, it.contentSha256)) };
      await this.orEmpty('removeVersionBatch', undefined, () =>
        this.client.delete(this.collection, { wait: true, ordering: QDRANT_WRITE_ORDERING, filter }),
      );
    }
    return items.map(() => OK);
  }

  async removeVersion(docId: string, contentSha256: string, ctx?: WriteContext): Promise<void> {
    await this.orEmpty(
      'removeVersion',
      undefined,
      () =>
        this.client.delete(this.collection, { wait: true, ordering: QDRANT_WRITE_ORDERING, filter: versionFilter(docId, contentSha256) }),
      ctx?.signal,
    );
  }

  async removeDocument(docId: string, ctx?: WriteContext): Promise<void> {
    await this.orEmpty(
      'removeDocument',
      undefined,
      () => this.client.delete(this.collection, { wait: true, ordering: QDRANT_WRITE_ORDERING, filter: versionFilter(docId) }),
      ctx?.signal,
    );
  }

  /** Pages through the points matching `filter` (one document's: always bounded), returning `field`. */
  private async scrollField(what: string, filter: Schemas['Filter'], field: 'doc_id' | 'content_sha256'): Promise<string[]> {
    const found: string[] = [];
    let offset: Schemas['ExtendedPointId'] | undefined;
    do {
      const page = await this.orEmpty(what, EMPTY_SCROLL, () =>
        this.client.scroll(this.collection, {
          filter,
          limit: SCROLL_PAGE,
          with_payload: [field],
          with_vector: false,
          ...(offset !== undefined ? { offset } : {}),
        }),
      );
      for (const point of page.points) {
        const value = point.payload?.[field];
        if (typeof value === 'string') found.push(value);
      }
      const next = page.next_page_offset;
      offset = typeof next === 'string' || typeof next === 'number' ? next : undefined;
    } while (offset !== undefined);
    return found;
  }

  async listVersions(docId: string): Promise<StoredVersion[]> {
    const counts = new Map<string, number>();
    for (const sha of await this.scrollField('listVersions', versionFilter(docId), 'content_sha256')) {
      counts.set(sha, (counts.get(sha) ?? 0) + 1);
    }
    return [...counts.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([contentSha256, chunkCount]) => ({ docId, contentSha256, chunkCount }));
  }

  /**
   * Qdrant cannot order or range-filter a keyword payload, so this walks the collection page by
   * page (scanDocIds) and keeps only the `limit` smallest ids after `afterId`: memory is bounded by
   * `limit` plus one page, never the collection. It reads every point, though: `verify` pages with
   * scanDocIds instead; this serves tests and small tools.
   */
  async listDocIds(afterId: string | null, limit: number): Promise<string[]> {
    let kept = new Set<string>();
    const smallest = (): string[] => [...kept].sort().slice(0, limit);
    for (let cursor: string | null = null; ; ) {
      const page = await this.scanDocIds(cursor, SCROLL_PAGE);
      for (const id of page.docIds) if (afterId === null || id > afterId) kept.add(id);
      if (kept.size > 2 * limit + SCROLL_PAGE) kept = new Set(smallest()); // trimmed now and then, not per page
      if (page.next === null) return smallest();
      cursor = page.next;
    }
  }

  /** One scroll over the points of all `docIds` (match any), large pages: a few calls per batch. */
  async versionsOf(docIds: readonly string[]): Promise<StoredVersion[]> {
    if (docIds.length === 0) return [];
    const counts = new Map<string, Map<string, number>>();
    const filter: Schemas['Filter'] = { must: [{ key: 'doc_id', match: { any: [...docIds] } }] };
    let offset: Schemas['ExtendedPointId'] | undefined;
    do {
      const page = await this.orEmpty('versionsOf', EMPTY_SCROLL, () =>
        this.client.scroll(this.collection, {
          filter,
          limit: BATCH_SCROLL_PAGE,
          with_payload: ['doc_id', 'content_sha256'],
          with_vector: false,
          ...(offset !== undefined ? { offset } : {}),
        }),
      );
      for (const point of page.points) {
        const doc = point.payload?.doc_id;
        const sha = point.payload?.content_sha256;
        if (typeof doc !== 'string' || typeof sha !== 'string') continue;
        const perDoc = counts.get(doc) ?? new Map<string, number>();
        perDoc.set(sha, (perDoc.get(sha) ?? 0) + 1);
        counts.set(doc, perDoc);
      }
      offset = nextOffset(page.next_page_offset);
    } while (offset !== undefined);
    const out: StoredVersion[] = [];
    for (const [docId, perDoc] of counts) {
      for (const [contentSha256, chunkCount] of perDoc) out.push({ docId, contentSha256, chunkCount });
    }
    return out.sort((a, b) =>
      a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : a.contentSha256 < b.contentSha256 ? -1 : a.contentSha256 > b.contentSha256 ? 1 : 0,
    );
  }

  /** Scrolls points in point-id order; the cursor is Qdrant's next_page_offset as JSON. Ids repeat across pages. */
  async scanDocIds(cursor: string | null, limit: number): Promise<DocIdPage> {
    const page = await this.orEmpty('scanDocIds', EMPTY_SCROLL, () =>
      this.client.scroll(this.collection, {
        limit,
        with_payload: ['doc_id'],
        with_vector: false,
        ...(cursor !== null ? { offset: JSON.parse(cursor) as Schemas['ExtendedPointId'] } : {}),
      }),
    );
    const docIds = new Set<string>();
    for (const point of page.points) {
      const doc = point.payload?.doc_id;
      if (typeof doc === 'string') docIds.add(doc);
    }
    const next = nextOffset(page.next_page_offset);
    return { docIds: [...docIds], next: next === undefined ? null : JSON.stringify(next) };
  }

  async search(vector: number[], limit: number): Promise<VectorHit[]> {
    if (vector.length !== this.dimension) {
      throw new StoreError('qdrant', 'STORE_PERMANENT', `search: query has ${vector.length} dimensions, collection has ${this.dimension}`);
    }
    const res = await this.orEmpty('search', EMPTY_QUERY, () =>
      this.client.query(this.collection, { query: vector, limit, with_payload: true }),
    );
    const hits: VectorHit[] = [];
    for (const point of res.points) {
      const p = payloadOf(point);
      if (p) hits.push({ docId: p.doc_id, contentSha256: p.content_sha256, idx: p.idx, score: point.score });
    }
    return hits;
  }
  // Collections and aliases (issue 25): collections.ts, on this store's client and settings.
  ensureCollection(name: string, dimension: number): Promise<void> {
    return this.collections.ensureCollection(name, dimension);
  }
  dropCollection(name: string): Promise<void> {
    return this.collections.dropCollection(name);
  }
  listCollections(): Promise<Array<{ name: string; dimension: number; points: number }>> {
    return this.collections.listCollections();
  }
  setAlias(alias: string, collection: string): Promise<void> {
    return this.collections.setAlias(alias, collection);
  }
  deleteAlias(alias: string): Promise<void> {
    return this.collections.deleteAlias(alias);
  }
  listAliases(): Promise<Array<{ alias: string; collection: string }>> {
    return this.collections.listAliases();
  }
  /** Same client, timeout and layout; reads and writes go to `name` (Qdrant resolves an alias). */
  withCollection(name: string, dimension: number): QdrantVectorStore {
    checkCollectionName('withCollection', 'name', name);
    checkDimension('withCollection', dimension);
    return new QdrantVectorStore({ ...this.options, collection: name, dimension }, this.client);
  }
}

export function createQdrantStore(options: QdrantStoreOptions): QdrantVectorStore {
  return new QdrantVectorStore(options);
}
