// GET /v1/documents/{id}/erasure: the erasure receipt of a deleted document (docs/erasure.md), the
// same check as `apex-memory verify --erased <id>`. Always 200 with the receipt: `erased` says
// whether every store was checked and holds no trace (a client reads it as the CLI's exit code).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import { checkErasure } from '../ingest/erasure.js';
import { readViewOf, type ApiContext } from './context.js';
import { json, parseWith, problems, route } from './route.js';

const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(256)
    .regex(/^\P{Cc}*$/u, 'control characters are not allowed in ids')
    .openapi({ param: { name: 'id', in: 'path' }, example: 'notes/alpha' }),
});

const StoreCheck = z.object({
  store: z.enum(['postgres', 'neo4j', 'qdrant', 'redis', 'saga_log']),
  backend: z.string(),
  clean: z
    .boolean()
    .nullable()
    .openapi({ description: 'true: no trace; false: see traces; null: the store could not be checked (see error)' }),
  traces: z.array(z.string()),
  kept: z
    .array(z.string())
    .openapi({ description: 'What is kept on purpose: write fences, the erasure record, ids and hashes in the saga log (audit).' }),
  error: z.string().optional(),
});

export const ErasureReceipt = z
  .object({
    docId: z.string(),
    erased: z.boolean().openapi({ description: 'true only when every store was checked and none holds a trace of the document' }),
    checkedAt: z.string(),
    deleteSaga: z
      .object({ sagaId: z.string(), status: z.string().nullable(), completedAt: z.string().nullable(), recordedAt: z.string() })
      .nullable()
      .openapi({ description: 'The delete saga that erased the document (null: no erasure on record).' }),
    stores: z.array(StoreCheck),
  })
  .openapi('ErasureReceipt');

export function registerErasureRoute(api: OpenAPIHono, ctx: ApiContext): void {
  route(
    api,
    {
      method: 'get',
      path: '/v1/documents/{id}/erasure',
      tags: ['documents'],
      summary: 'Prove that a deleted document was erased (the erasure receipt)',
      description:
        'Checks PostgreSQL (every version, staged saga content), Neo4j, Qdrant, Redis and the saga log for any trace of the document, by id and by content hash, ' +
        'and returns the receipt: the delete saga, when it completed, and the result per store. Kept on purpose (listed under `kept`): write fences and the ' +
        'erasure record (ids only), and ids and hashes in the saga log until retention prunes them. `erased` is false while any trace remains or a store cannot be checked.',
      request: { params: IdParam },
      responses: { 200: json(ErasureReceipt, 'The erasure receipt (read `erased`).'), ...problems(400, 503) },
    },
    async (c) => {
      const { id } = parseWith(IdParam, { id: c.req.param('id') ?? '' }, 'HTTP_INVALID_PARAMETER', 400);
      // Every vector target the record names: the active one (the view's) and the others.
      const view = await readViewOf(ctx.app);
      const others = (await ctx.app.index?.targets?.others()) ?? [];
      const extraVectors = others.map((b) => ({ collection: b.target.collection, store: b.store }));
      return c.json(await checkErasure(view.stores, ctx.app.engine.log, id, { extraVectors }), 200);
    },
  );
}
