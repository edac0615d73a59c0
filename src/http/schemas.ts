// The API's shapes as zod schemas: requests are validated with them and the OpenAPI document is
// generated from them (openapi.ts). The document body is the ingest layer's own schema
// (src/ingest/schema.ts), so the API accepts exactly what the CLI accepts.
import { z } from '@hono/zod-openapi';
import { documentInputSchema } from '../ingest/schema.js';

export const SAGA_STATUSES = ['pending', 'running', 'compensating', 'completed', 'compensated', 'stuck'] as const;
const sagaStatus = z.enum(SAGA_STATUSES);

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ description: 'Stable machine-readable code (e.g. DOC_INVALID, HTTP_BODY_TOO_LARGE).' }),
    detail: z.string(),
    instance: z.string().optional(),
  })
  .catchall(z.unknown())
  .openapi('Problem', { description: 'RFC 9457 problem details; served as application/problem+json.' });

export const ErrorInfo = z.object({ code: z.string(), message: z.string(), retryable: z.boolean().optional() }).openapi('ErrorInfo');
// Not ErrorInfoOrNull: the generator turns that into allOf [ref, {type: [object, null]}],
// which rejects null (the ref requires an object). A union becomes anyOf [ref, null].
const ErrorInfoOrNull = z.union([ErrorInfo, z.null()]);

// Same fields and strictness as the ingest schema (zod schemas made before the OpenAPI extension
// loaded cannot take .openapi(), so the shape is re-wrapped).
export const DocumentInput = z.strictObject(documentInputSchema.shape).openapi('DocumentInput', {
  description: 'A document. Unknown fields are rejected. Without `id`, the id is a prefix of sha256(text).',
  example: { id: 'notes/alpha', title: 'Alpha', text: 'Alice met Bob in Paris.', metadata: { lang: 'en' } },
});

const ingestionStatus = z.enum(['pending', 'committed', 'failed', 'deleting', 'absent']);

export const WriteResult = z
  .object({
    docId: z.string(),
    action: z.enum(['created', 'updated', 'unchanged', 'deleted', 'absent']),
    sagaId: z.string().nullable(),
    sagaStatus: z.enum([...SAGA_STATUSES, 'skipped']).openapi({ description: '`skipped`: no saga was needed (content already committed, or nothing to delete).' }),
    ingestionStatus: ingestionStatus.openapi({ description: "The document's `ingestion_status` in PostgreSQL after this call; `absent` when there is no row." }),
    contentSha256: z.string().nullable().openapi({ description: 'The committed version after this call.' }),
    reason: ErrorInfo.optional(),
    location: z.string().optional().openapi({ description: 'Where to poll (same as the Location header), for 202.' }),
  })
  .openapi('WriteResult');

export const DocumentView = z
  .object({
    id: z.string(),
    title: z.string(),
    ingestionStatus: ingestionStatus,
    contentSha256: z.string().nullable(),
    sagaId: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()),
    text: z.string().nullable().openapi({ description: 'Text of the committed version; null while no version is committed.' }),
    chunks: z.number().int(),
    entities: z.array(z.string()),
    cached: z.boolean(),
    updatedAt: z.string(),
    pendingVersions: z.array(z.object({ contentSha256: z.string(), sagaId: z.string() })).openapi({ description: 'Versions being written right now (an update in flight).' }),
  })
  .openapi('Document');

const versions = z.array(z.object({ contentSha256: z.string(), chunkCount: z.number().int() }));
export const DocumentStores = z
  .object({
    id: z.string(),
    postgres: z.object({
      ingestionStatus: ingestionStatus,
      contentSha256: z.string().nullable(),
      sagaId: z.string().nullable(),
      chunks: z.number().int(),
      pendingVersions: z.array(z.object({ contentSha256: z.string(), sagaId: z.string() })),
    }),
    neo4j: z.object({ versions }),
    qdrant: z.object({ versions }),
    redis: z.object({ contentSha256: z.string().nullable(), chunkCount: z.number().int().nullable() }),
    consistent: z.boolean().openapi({ description: 'Every store holds exactly the committed version (or nothing, when none is committed).' }),
  })
  .openapi('DocumentStores');

export const SearchResult = z
  .object({
    query: z.string(),
    k: z.number().int(),
    hits: z.array(z.object({ id: z.string(), title: z.string(), score: z.number(), snippet: z.string(), entities: z.array(z.string()) })),
  })
  .openapi('SearchResult');

export const SagaSummary = z
  .object({
    sagaId: z.string(),
    name: z.string(),
    version: z.number().int(),
    status: sagaStatus,
    owner: z.string().nullable(),
    fencingToken: z.number().int(),
    leaseExpiresAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    durationMs: z.number().openapi({ description: 'updatedAt - createdAt (for a saga still running: so far).' }),
    reason: ErrorInfoOrNull,
    attempts: z.number().int().openapi({ description: 'Highest attempt of any step or compensation.' }),
    retrying: z.boolean().openapi({ description: 'Some step or compensation needed more than one attempt.' }),
    failedSteps: z.array(z.string()),
    docId: z.string().nullable(),
  })
  .openapi('SagaSummary');

export const SagaList = z
  .object({
    sagas: z.array(SagaSummary),
    nextCursor: z.string().nullable(),
    scanned: z.number().int().openapi({ description: 'Sagas read from the log to answer (filters run over at most scanLimit of them).' }),
    scanLimitReached: z.boolean(),
  })
  .openapi('SagaList');

export const TimelineRecord = z
  .object({
    seq: z.number().int(),
    type: z.string(),
    step: z.string().nullable(),
    attempt: z.number().int().nullable(),
    status: z.string().nullable(),
    error: ErrorInfoOrNull,
    willRetry: z.boolean().nullable(),
    output: z.unknown().optional(),
  })
  .openapi('TimelineRecord');

export const TimelineBar = z
  .object({
    step: z.string(),
    phase: z.enum(['forward', 'compensation']),
    attempt: z.number().int(),
    stage: z.number().int().openapi({ description: 'Stage index; bars of one parallel group share it.' }),
    start: z.number().openapi({ description: 'Epoch ms when timeAxis is "wall", else a record seq.' }),
    end: z.number().nullable(),
    outcome: z.enum(['succeeded', 'failed', 'running', 'unknown']),
    error: ErrorInfoOrNull,
    operation: z.string().nullable().openapi({ description: 'The store operation this step (or its compensation) performs.' }),
  })
  .openapi('TimelineBar');

export const SagaDetail = SagaSummary.extend({
  input: z.unknown(),
  inputTruncated: z.boolean(),
  content: z.string().optional().openapi({ description: 'What became of the saga\'s document content (docs/erasure.md): staged, removed when the saga ended, erased by a delete (naming it), or inline (older logs).' }),
  outputs: z.record(z.string(), z.unknown()),
  records: z.array(TimelineRecord),
  timeAxis: z.enum(['wall', 'seq']).openapi({ description: '"wall": bars carry epoch ms (this server ran the saga); "seq": log order only.' }),
  bars: z.array(TimelineBar),
  ownership: z
    .array(z.object({ at: z.number().nullable(), fencingToken: z.number().int().nullable(), owner: z.string().nullable(), event: z.string() }))
    .openapi({ description: 'Fencing token changes and takeovers known to this server, oldest first.' }),
}).openapi('SagaDetail');

export const SagaOutcome = z
  .object({ sagaId: z.string(), saga: z.string(), status: sagaStatus, reason: ErrorInfoOrNull, location: z.string().optional() })
  .openapi('SagaOutcome');

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const timeParam = z.string().openapi({ description: 'ISO 8601 date-time or epoch milliseconds.' });

export const SagaFilter = z.strictObject({
  status: sagaStatus.optional(),
  name: z.string().min(1).max(200).optional(),
  version: z.coerce.number().int().min(0).optional(),
  stuck: boolParam.optional().openapi({ description: 'true: only stuck sagas (same as status=stuck).' }),
  retrying: boolParam.optional().openapi({ description: 'true: only sagas where some step needed more than one attempt.' }),
  failedStep: z.string().min(1).max(200).optional().openapi({ description: 'Only sagas in which this step (or its compensation) failed at least once.' }),
  since: timeParam.optional().openapi({ description: 'Created at or after (ISO 8601 or epoch ms).' }),
  until: timeParam.optional().openapi({ description: 'Created before (ISO 8601 or epoch ms).' }),
});

export const SagaListQuery = SagaFilter.extend({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const BulkRetryBody = z
  .strictObject({
    filter: SagaFilter.omit({ status: true, stuck: true }).optional().openapi({ description: 'Which stuck sagas (status stuck is implied).' }),
    sagaIds: z.array(z.string().min(1).max(200).regex(/^\P{Cc}*$/u, 'control characters are not allowed in saga ids')).max(500).optional().openapi({ description: 'Exactly these sagas (e.g. the list a dry run returned); each must be stuck.' }),
    dryRun: z.boolean().default(true).openapi({ description: 'true (the default): only list the sagas it would retry.' }),
    limit: z.number().int().min(1).max(500).default(100),
  })
  .openapi('BulkRetryRequest');

export const BulkRetryResult = z
  .object({
    dryRun: z.boolean(),
    sagas: z.array(z.object({ sagaId: z.string(), name: z.string(), version: z.number().int(), reason: ErrorInfoOrNull })),
    results: z.array(z.object({ sagaId: z.string(), status: sagaStatus.nullable(), error: ErrorInfoOrNull })),
  })
  .openapi('BulkRetryResult');

export const WaitQuery = z.strictObject({
  wait: z.coerce
    .number()
    .min(0)
    .max(60)
    .optional()
    .openapi({ description: 'Seconds to wait for the saga to end (0-60). Without it the call returns 202 at once.' }),
});

export const SearchQuery = z.strictObject({
  q: z.string().min(1).max(2000),
  k: z.coerce.number().int().min(1).max(50).default(5),
});

export const Overview = z
  .object({
    window: z.object({ sagas: z.number().int(), from: z.string().nullable(), to: z.string().nullable() }),
    successRate: z.number().nullable(),
    compensationRate: z.number().nullable(),
    latencyMs: z.object({ p50: z.number().nullable(), p90: z.number().nullable(), p99: z.number().nullable() }),
    targets: z
      .object({ successRate: z.number(), compensationRate: z.number(), p90Ms: z.number(), p90AlertMs: z.number() })
      .openapi({ description: "The seed's targets: success rate above, compensation rate below, P90 below; alert above p90AlertMs." }),
    inFlight: z.number().int(),
    pending: z.number().int(),
    stuck: z.number().int(),
    consistencyWindowMs: z.object({ samples: z.number().int(), p50: z.number().nullable(), p99: z.number().nullable() }),
    lastVerify: z.object({ at: z.string(), documents: z.number().int(), violations: z.number().int(), byKind: z.record(z.string(), z.number().int()) }).nullable(),
    series: z
      .array(z.object({ t: z.number(), completed: z.number().int(), compensated: z.number().int(), stuck: z.number().int(), p90Ms: z.number().nullable() }))
      .openapi({ description: 'Per-minute buckets of sagas that ended, by their last update.' }),
    profile: z.string(),
    mode: z.enum(['run', 'enqueue']),
  })
  .openapi('Overview');

export const VerifyResult = z
  .object({ at: z.string(), documents: z.number().int(), committed: z.number().int(), violations: z.array(z.object({ kind: z.string(), store: z.string(), docId: z.string(), detail: z.string() })) })
  .openapi('VerifyResult');

export const Health = z.object({ status: z.literal('ok') }).openapi('Health');
export const Ready = z
  .object({
    ready: z.boolean(),
    draining: z.boolean(),
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), latencyMs: z.number(), detail: z.string() })),
  })
  .openapi('Ready');

export const CancelQuery = WaitQuery.extend({
  reason: z.string().min(1).max(500).optional().openapi({ description: 'Recorded as the message of the SAGA_CANCELLED reason.' }),
});
