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
    action: z.enum(['created', 'updated', 'unchanged', 'deleted', 'absent', 'queued', 'in_progress']).openapi({
      description:
        'What happened. In a 202 nothing has happened yet: `queued` (the saga waits in the log for a worker) or `in_progress` (running, or stuck waiting for an operator); `intent` says what it will do.',
    }),
    intent: z
      .enum(['created', 'updated', 'deleted'])
      .optional()
      .openapi({ description: 'In a 202: what the saga will do once it completes.' }),
    sagaId: z.string().nullable(),
    sagaStatus: z
      .enum([...SAGA_STATUSES, 'skipped'])
      .openapi({ description: '`skipped`: no saga was needed (content already committed, or nothing to delete).' }),
    ingestionStatus: ingestionStatus.openapi({
      description: "The document's `ingestion_status` in PostgreSQL after this call; `absent` when there is no row.",
    }),
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
    pendingVersions: z
      .array(z.object({ contentSha256: z.string(), sagaId: z.string() }))
      .openapi({ description: 'Versions being written right now (an update in flight).' }),
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
    consistent: z
      .boolean()
      .openapi({ description: 'Every store holds exactly the committed version (or nothing, when none is committed).' }),
    exists: z.boolean().openapi({
      description: 'Some store holds something for this id. false: an unknown id (nothing anywhere; `consistent` is then trivially true).',
    }),
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
    leaseExpiresAt: z.string().nullable().openapi({ description: 'null for a completed or compensated saga: it holds no lease.' }),
    createdAt: z.string().openapi({ description: "When it was begun (started, or queued), on the saga log's clock." }),
    startedAt: z.string().nullable().openapi({ description: 'When an owner first wrote to it (its first log record); null while queued.' }),
    endedAt: z.string().nullable().openapi({ description: 'When it became completed or compensated; null otherwise.' }),
    updatedAt: z.string(),
    queuedMs: z.number().openapi({ description: 'startedAt - createdAt (still queued: up to its last log change).' }),
    runningMs: z.number().nullable().openapi({
      description:
        'endedAt - startedAt (not ended: up to its last log change, so an unchanged saga keeps its ETag); null if it never started.',
    }),
    reason: ErrorInfoOrNull,
    attempts: z.number().int().openapi({ description: 'Highest attempt of any step or compensation.' }),
    retrying: z.boolean().openapi({
      description: 'Running, in a step retry: its last record is a failed attempt that will be retried, or an attempt after the first.',
    }),
    failedSteps: z.array(z.string()),
    docId: z
      .string()
      .nullable()
      .openapi({ description: 'The document the saga writes (the saga key the writer set; older sagas: read from the input).' }),
    waitingOn: z
      .object({
        step: z.string(),
        phase: z.enum(['forward', 'compensation']),
        store: z
          .string()
          .nullable()
          .openapi({ description: 'The store the step talks to (PostgreSQL, Neo4j, Qdrant, Redis), when known.' }),
        nextAttempt: z.number().int(),
        error: z.object({ code: z.string(), message: z.string() }),
        retryInMs: z.number().nullable(),
        nextAttemptAt: z.string().nullable().openapi({
          description: 'When the next attempt is due, when the log says (a durable retry timer that is the last record); else null.',
        }),
      })
      .nullable()
      .openapi({
        description:
          'A running saga retrying a step: the attempt that failed, the store it waits on, and the next attempt time when known. Null otherwise.',
      }),
  })
  .openapi('SagaSummary');

export const SagaList = z
  .object({
    sagas: z.array(SagaSummary),
    nextCursor: z
      .string()
      .nullable()
      .openapi({ description: 'Opaque keyset cursor: pass it as `cursor` (same filters) for the next page; null on the last page.' }),
    total: z.number().int().openapi({ description: 'Sagas matching the filters, counted up to 10,000.' }),
    totalCapped: z.boolean().openapi({ description: 'true: more than `total` match ("10,000+"); counting on would read the whole log.' }),
  })
  .openapi('SagaList');

export const TimelineRecord = z
  .object({
    seq: z.number().int(),
    at: z
      .string()
      .nullable()
      .openapi({ description: "When the record became durable, on the saga log's clock; null for records older than that stamp." }),
    type: z.string(),
    step: z.string().nullable(),
    attempt: z.number().int().nullable(),
    status: z.string().nullable(),
    error: ErrorInfoOrNull,
    willRetry: z.boolean().nullable(),
    output: z.unknown().optional(),
    cancel: z
      .object({ by: z.string(), at: z.string(), message: z.string() })
      .optional()
      .openapi({ description: 'On the status record a cancel wrote: who, when, why.' }),
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
  content: z.string().optional().openapi({
    description:
      "What became of the saga's document content (docs/erasure.md): staged, removed when the saga ended, erased by a delete (naming it), or inline (older logs).",
  }),
  outputs: z.record(z.string(), z.unknown()),
  records: z.array(TimelineRecord),
  timeAxis: z.enum(['wall', 'seq']).openapi({
    description:
      '"wall": bars carry epoch ms (this server\'s stamps, else the log\'s record times); "seq": log order only (records older than the log\'s times).',
  }),
  bars: z.array(TimelineBar),
  ownership: z
    .array(
      z.object({ at: z.number().nullable(), fencingToken: z.number().int().nullable(), owner: z.string().nullable(), event: z.string() }),
    )
    .openapi({
      description: 'Fencing token changes and takeovers known to this server, oldest first; the current lease only while the saga runs.',
    }),
  actions: z
    .object({
      allowed: z
        .array(z.enum(['retry', 'cancel']))
        .openapi({ description: 'The operator actions the server accepts now (a page shows only these).' }),
      retryWill: z.enum(['forward', 'compensate']).nullable().openapi({
        description:
          'For a stuck saga: Retry goes forward (after the pivot, or nothing failed for good) or continues undoing (compensate).',
      }),
      pivotStarted: z.boolean(),
      retryText: z.string().nullable(),
      cancelText: z.string().nullable(),
      note: z.string().nullable(),
    })
    .openapi({ description: 'What an operator can do, decided as the engine decides (replay and pivot), in words.' }),
  cancellation: z.object({ by: z.string(), at: z.string(), message: z.string() }).nullable().openapi({
    description:
      'Who cancelled the saga, when and why (null if never cancelled). A saga that had failed before keeps that failure as `reason`.',
  }),
  errorGroups: z
    .array(
      z.object({
        phase: z.enum(['forward', 'compensation']),
        step: z.string(),
        code: z.string(),
        message: z.string(),
        count: z.number().int(),
        firstAttempt: z.number().int(),
        lastAttempt: z.number().int(),
        firstAt: z.number().nullable(),
        lastAt: z.number().nullable(),
      }),
    )
    .openapi({
      description: 'Identical errors of one step and phase collapsed (count, first and last attempt; epoch ms on a wall-clock timeline).',
    }),
}).openapi('SagaDetail');

export const SagaOutcome = z
  .object({ sagaId: z.string(), saga: z.string(), status: sagaStatus, reason: ErrorInfoOrNull, location: z.string().optional() })
  .openapi('SagaOutcome');

const boolParam = z.enum(['true', 'false']).transform((v) => v === 'true');
const timeParam = z.string().openapi({ description: 'ISO 8601 date-time or epoch milliseconds.' });

const statusList = z
  .string()
  .max(200)
  .transform((v, ctx) => {
    const list = v.split(',').map((s) => s.trim());
    const bad = list.filter((s) => !(sagaStatus.options as readonly string[]).includes(s));
    if (bad.length > 0) ctx.addIssue({ code: 'custom', message: `unknown status ${bad.join(', ')}: use ${sagaStatus.options.join(', ')}` });
    return list as Array<z.infer<typeof sagaStatus>>;
  })
  .openapi({ type: 'string', description: 'One status, or several separated by commas (any of them).', example: 'stuck,compensating' });

export const SagaFilter = z.strictObject({
  status: statusList.optional(),
  name: z.string().min(1).max(200).optional(),
  version: z.coerce.number().int().min(0).optional(),
  stuck: boolParam.optional().openapi({ description: 'true: only stuck sagas (same as status=stuck).' }),
  retrying: boolParam.optional().openapi({
    description:
      'true: only running sagas in a step retry (last record a failed attempt that will be retried, or an attempt after the first).',
  }),
  failedStep: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'Only sagas in which this step (or its compensation) failed at least once.' }),
  since: timeParam.optional().openapi({ description: 'Created at or after (ISO 8601 or epoch ms).' }),
  until: timeParam.optional().openapi({ description: 'Created before (ISO 8601 or epoch ms).' }),
  docId: z.string().min(1).max(500).optional().openapi({ description: 'Only sagas writing this document (the saga key).' }),
  reasonCode: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ description: 'Only sagas whose reason has this code (SAGA_CANCELLED, a fault code, ...).' }),
  owner: z.string().min(1).max(500).optional().openapi({ description: 'Only sagas held (or last held) by this owner.' }),
});

export const SagaListQuery = SagaFilter.extend({
  order: z.enum(['desc', 'asc']).optional().openapi({ description: 'desc (default): newest first.' }),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const BulkRetryBody = z
  .strictObject({
    filter: SagaFilter.omit({ status: true, stuck: true })
      .optional()
      .openapi({ description: 'Which stuck sagas (status stuck is implied).' }),
    sagaIds: z
      .array(
        z
          .string()
          .min(1)
          .max(200)
          .regex(/^\P{Cc}*$/u, 'control characters are not allowed in saga ids'),
      )
      .max(500)
      .optional()
      .openapi({ description: 'Exactly these sagas (e.g. the list a dry run returned); each must be stuck.' }),
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

const FaultDrill = z
  .object({ stores: z.array(z.string()) })
  .nullable()
  .openapi({ description: 'Set while a fault drill (APEX_INJECT_FAULTS) injects failures into these stores; null otherwise.' });

// Not a named component: a nullable $ref loses its null in the generated document (inlined instead).
const IndexTarget = z.object({
  embedder: z.string(),
  model: z.string(),
  dimension: z.number().int(),
  chunking: z.number().int(),
  collection: z.string(),
});

/** The vector index's phase and targets (docs/reindex.md), as `apex-memory status` shows them. */
const VectorIndex = z.object({
  phase: z.enum(['steady', 'migrating', 'switched']),
  active: IndexTarget.openapi({ description: 'Serves reads.' }),
  next: IndexTarget.nullable().openapi({ description: 'Being built by a reindex (dual-written); null outside a migration.' }),
  previous: IndexTarget.nullable().openapi({
    description: 'After --switch, until --finish: still dual-written, what --rollback restores.',
  }),
  mismatch: z.string().nullable().openapi({
    description: "This server's EMBEDDER/EMBEDDING_DIMENSION contradict the record (it refuses writes); null when they agree.",
  }),
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
    countsCapped: z
      .boolean()
      .openapi({ description: 'true: one of inFlight, pending, stuck reached 100,000 and shows the cap ("100,000+").' }),
    consistencyWindowMs: z.object({ samples: z.number().int(), p50: z.number().nullable(), p99: z.number().nullable() }),
    lastVerify: z
      .object({ at: z.string(), documents: z.number().int(), violations: z.number().int(), byKind: z.record(z.string(), z.number().int()) })
      .nullable(),
    series: z
      .array(
        z.object({
          t: z.number(),
          completed: z.number().int(),
          compensated: z.number().int(),
          stuck: z.number().int(),
          p90Ms: z.number().nullable(),
        }),
      )
      .openapi({ description: 'Per-minute buckets of sagas that ended, by their last update.' }),
    profile: z.string(),
    namespace: z
      .string()
      .nullable()
      .openapi({ description: 'APEX_NAMESPACE of this server, null without one (docs/deploy.md "Namespaces").' }),
    vectorIndex: VectorIndex.nullable().openapi({ description: 'The active index record (docs/reindex.md); null when unreadable.' }),
    mode: z.enum(['run', 'enqueue']),
    faultDrill: FaultDrill,
  })
  .openapi('Overview');

export const VerifyResult = z
  .object({
    at: z.string(),
    documents: z.number().int(),
    committed: z.number().int(),
    violations: z.array(z.object({ kind: z.string(), store: z.string(), docId: z.string(), detail: z.string() })),
  })
  .openapi('VerifyResult');

export const Health = z.object({ status: z.literal('ok') }).openapi('Health');
export const Ready = z
  .object({
    ready: z.boolean(),
    draining: z.boolean(),
    faultDrill: FaultDrill,
    checks: z.array(z.object({ name: z.string(), ok: z.boolean(), latencyMs: z.number(), detail: z.string() })),
  })
  .openapi('Ready');

export const CancelQuery = WaitQuery.extend({
  reason: z.string().min(1).max(500).optional().openapi({
    description: 'Why; recorded with the cancellation (and as the SAGA_CANCELLED reason when the saga had not failed before).',
  }),
  by: z
    .string()
    .min(1)
    .max(100)
    .regex(/^\P{Cc}*$/u, 'control characters are not allowed')
    .optional()
    .openapi({ description: 'Who cancels (an operator name), recorded with the cancellation; default `http-api`.' }),
});
