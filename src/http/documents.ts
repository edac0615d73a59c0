// /v1/documents and /v1/search: write (ingest, update, delete) through sagas, read committed
// versions, and show one document's state in each of the four stores.
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { validateDocument } from '../ingest/schema.js';
import { getDocument, searchDocuments } from '../ingest/read.js';
import { readViewOf, type ApiContext } from './context.js';
import { readJsonBody } from './body.js';
import { HttpProblem } from './problem.js';
import { json, parseQuery, parseWith, problems, route } from './route.js';
import { DocumentInput, DocumentStores, DocumentView, SearchQuery, SearchResult, WaitQuery, WriteResult } from './schemas.js';
import { deleteDocument, writeDocument } from './write.js';

// No stored id has a control character (validateDocument refuses them; PostgreSQL cannot hold NUL):
// such an id is bad input (400), not a store failure (a NUL reached PostgreSQL and came back as a 503).
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(256)
    .regex(/^\P{Cc}*$/u, 'control characters are not allowed in ids')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'notes/alpha' }),
});
/** The path id, checked against IdParam (400 HTTP_INVALID_PARAMETER), before any store sees it. */
const idOf = (c: Context): string => parseWith(IdParam, { id: c.req.param('id') ?? '' }, 'HTTP_INVALID_PARAMETER', 400).id;
const idempotencyHeader = z.object({
  'idempotency-key': z.string().optional().openapi({
    description:
      'Maps to the saga id: the same key with the same body returns the same saga (never runs it twice); with a different body it is a 409.',
  }),
});

const WRITE_RESPONSES = {
  200: json(WriteResult, 'The saga ended and the document is committed (an update, or no change: sagaStatus `skipped`).'),
  201: json(WriteResult, 'The saga ended and the new document is committed.'),
  202: {
    ...json(
      WriteResult,
      'Accepted: the saga has not ended within `wait` (running, queued for a worker, or stuck waiting for an operator). Poll `Location` (the saga) or GET the document; until it ends, readers see the previous committed version or `ingestion_status` `pending`.',
    ),
    headers: z.object({ Location: z.string().openapi({ description: '/v1/sagas/{sagaId}' }) }),
  },
};

export function registerDocumentRoutes(api: OpenAPIHono, ctx: ApiContext): void {
  route(
    api,
    {
      method: 'post',
      path: '/v1/documents',
      tags: ['documents'],
      summary: 'Ingest a document (runs the ingest or update saga)',
      description:
        'Validates the document (nothing is written when it is invalid), then writes it to PostgreSQL, Neo4j, Qdrant and Redis in one saga. Unchanged content runs no saga. ' +
        'A 503 `WRITE_COMPENSATED` means the saga rolled back: nothing of this write is visible, and the client may retry with a new Idempotency-Key. A 409 `WRITE_CONFLICT` means another writer committed this document meanwhile.',
      request: {
        query: WaitQuery,
        headers: idempotencyHeader,
        body: { required: true, content: { 'application/json': { schema: DocumentInput } } },
      },
      responses: { ...WRITE_RESPONSES, ...problems(400, 409, 413, 415, 422, 503) },
    },
    async (c) => {
      const q = parseQuery(c, WaitQuery);
      const doc = validateDocument(await readJsonBody(c, ctx.opts.maxBodyBytes));
      return writeDocument(c, ctx, doc, q.wait);
    },
  );

  route(
    api,
    {
      method: 'put',
      path: '/v1/documents/{id}',
      tags: ['documents'],
      summary: 'Create or replace the document with this id',
      description:
        'Same as POST with the id taken from the path (a body `id`, if given, must match). An update keeps the last committed version readable until the new one commits.',
      request: {
        params: IdParam,
        query: WaitQuery,
        headers: idempotencyHeader,
        body: { required: true, content: { 'application/json': { schema: DocumentInput } } },
      },
      responses: { ...WRITE_RESPONSES, ...problems(400, 409, 413, 415, 422, 503) },
    },
    async (c) => {
      const q = parseQuery(c, WaitQuery);
      const id = idOf(c);
      const raw = await readJsonBody(c, ctx.opts.maxBodyBytes);
      if (typeof raw === 'object' && raw !== null && !Array.isArray(raw) && 'id' in raw && (raw as { id: unknown }).id !== id) {
        throw new HttpProblem(422, 'DOC_INVALID', 'id: the body id differs from the id in the path', { field: 'id' });
      }
      const doc = validateDocument(typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { ...raw, id } : raw);
      return writeDocument(c, ctx, doc, q.wait);
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/v1/documents/{id}',
      tags: ['documents'],
      summary: 'Read a document',
      description:
        "Returns the committed version and `ingestionStatus` (PostgreSQL's `ingestion_status`). `pending`: a first ingest is in flight and no version is committed yet (text is null); readers see it only after the commit. During an update the status stays `committed` and the previous version is served; `pendingVersions` lists the one being written. `failed`: the first ingest rolled back.",
      request: { params: IdParam },
      responses: { 200: json(DocumentView, 'The document.'), ...problems(404, 503) },
    },
    async (c) => {
      const id = idOf(c);
      const { stores } = ctx.app;
      const row = await stores.postgres.getDocument(id);
      if (!row) throw new HttpProblem(404, 'DOC_NOT_FOUND', `no document "${id}"`, { docId: id });
      const pending = (await stores.postgres.getPendingVersions(id)).map((p) => ({ contentSha256: p.contentSha256, sagaId: p.sagaId }));
      const view = await getDocument(stores, id, (await ctx.app.index?.record.current())?.state.active.chunking);
      return c.json(
        {
          id,
          title: view?.title ?? row.title,
          ingestionStatus: row.ingestionStatus,
          contentSha256: row.contentSha256,
          sagaId: row.sagaId,
          metadata: view?.metadata ?? row.metadata,
          text: view?.text ?? null,
          chunks: view?.chunks ?? 0,
          entities: view?.entities ?? [],
          cached: view?.cached ?? false,
          updatedAt: row.updatedAt.toISOString(),
          pendingVersions: pending,
        },
        200,
      );
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/v1/documents/{id}/stores',
      tags: ['documents'],
      summary: "The document's state in each of the four stores",
      request: { params: IdParam },
      responses: { 200: json(DocumentStores, 'What each store holds for this id (also when PostgreSQL has no row).'), ...problems(503) },
    },
    async (c) => {
      const id = idOf(c);
      // Qdrant: the active index's collection (it moves at a --switch), with its chunking.
      const { stores, chunking } = await readViewOf(ctx.app);
      const [row, pending, graph, vectors, cache] = await Promise.all([
        stores.postgres.getDocument(id),
        stores.postgres.getPendingVersions(id),
        stores.neo4j.listVersions(id),
        stores.qdrant.listVersions(id),
        stores.redis.get(id),
      ]);
      const sha = row?.ingestionStatus === 'committed' ? row.contentSha256 : null;
      const chunks = row?.contentSha256 ? (await stores.postgres.getChunks(id, row.contentSha256, chunking)).length : 0;
      const only = (vs: Array<{ contentSha256: string }>): boolean =>
        sha === null ? vs.length === 0 : vs.length === 1 && vs[0]?.contentSha256 === sha;
      // The graph keeps every live chunking's nodes (re-chunking): the active one's are compared.
      const activeGraph = graph.filter((v) => (v.chunking ?? 1) === chunking);
      const consistent = only(activeGraph) && only(vectors) && (cache === undefined || cache.contentSha256 === sha) && pending.length === 0;
      const strip = (vs: Array<{ contentSha256: string; chunkCount: number }>) =>
        vs.map((v) => ({ contentSha256: v.contentSha256, chunkCount: v.chunkCount }));
      return c.json(
        {
          id,
          postgres: {
            ingestionStatus: row?.ingestionStatus ?? 'absent',
            contentSha256: row?.contentSha256 ?? null,
            sagaId: row?.sagaId ?? null,
            chunks,
            pendingVersions: pending.map((p) => ({ contentSha256: p.contentSha256, sagaId: p.sagaId })),
          },
          neo4j: { versions: strip(activeGraph) },
          qdrant: { versions: strip(vectors) },
          redis: { contentSha256: cache?.contentSha256 ?? null, chunkCount: cache?.chunkCount ?? null },
          consistent,
          exists: row !== undefined || pending.length > 0 || graph.length > 0 || vectors.length > 0 || cache !== undefined,
        },
        200,
      );
    },
  );

  route(
    api,
    {
      method: 'delete',
      path: '/v1/documents/{id}',
      tags: ['documents'],
      summary: 'Delete a document (runs the delete saga)',
      description:
        'Readers stop seeing the document when the saga starts (`ingestion_status` `deleting`). Deletes run in the API process on every profile.',
      request: { params: IdParam, query: WaitQuery, headers: idempotencyHeader },
      responses: {
        200: json(WriteResult, 'The document is deleted from all four stores.'),
        202: {
          ...json(WriteResult, 'Accepted: the delete saga has not ended within `wait`; poll `Location`.'),
          headers: z.object({ Location: z.string() }),
        },
        ...problems(400, 404, 409, 503),
      },
    },
    async (c) => {
      const q = parseQuery(c, WaitQuery);
      return deleteDocument(c, ctx, idOf(c), q.wait);
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/v1/search',
      tags: ['documents'],
      summary: 'Vector search over committed versions',
      request: { query: SearchQuery },
      responses: { 200: json(SearchResult, 'Best hits first; only committed versions of committed documents.'), ...problems(400, 503) },
    },
    async (c) => {
      const q = parseQuery(c, SearchQuery);
      const hits = ctx.app.search ? await ctx.app.search(q.q, q.k) : await searchDocuments(ctx.app.stores, ctx.app.embedder, q.q, q.k);
      return c.json({ query: q.q, k: q.k, hits }, 200);
    },
  );
}
