// /v1/sagas: the operator's view of the saga log (list with filters, one saga as a timeline) and
// its actions (retry a stuck saga, bulk retry with a dry run first).
import { z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { SagaOutcome } from '../saga/index.js';
import type { TimingEvent } from './timings.js';
import type { ApiContext } from './context.js';
import { readJsonBody } from './body.js';
import { HttpProblem } from './problem.js';
import { json, parseQuery, parseWith, polled, problems, route } from './route.js';
import { querySagas, totalOf } from './saga-query.js';
import { actionsView, cancellationOf, errorGroups } from './saga-guide.js';
import { docIdOf, limitedInput, outputsOf, recordFacts, recordViews, summaryView, timelineBars } from './saga-view.js';
import {
  BulkRetryBody,
  Problem,
  BulkRetryResult,
  CancelQuery,
  SagaDetail,
  SagaList,
  SagaListQuery,
  SagaOutcome as SagaOutcomeSchema,
  WaitQuery,
} from './schemas.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { contentStateOf, describeContent } from '../ingest/content-state.js';
import { cancelAndForget } from '../ingest/staged-sweep.js';

// Saga ids are engine UUIDs or `idem-<hex>` (write.ts): none has a control character. Such an id is
// bad input (400) checked before the saga log sees it: a NUL on a PostgreSQL log would be a 503.
const IdParam = z.object({
  id: z
    .string()
    .min(1)
    .max(200)
    .regex(/^\P{Cc}*$/u, 'control characters are not allowed in saga ids')
    .openapi({ param: { name: 'id', in: 'path' } }),
});
/** The path id, checked against IdParam (400 HTTP_INVALID_PARAMETER). */
const idOf = (c: Context): string => parseWith(IdParam, { id: c.req.param('id') ?? '' }, 'HTTP_INVALID_PARAMETER', 400).id;

export function registerSagaRoutes(api: OpenAPIHono, ctx: ApiContext): void {
  const log = ctx.app.engine.log;

  route(
    api,
    {
      method: 'get',
      path: '/v1/sagas',
      tags: ['sagas'],
      summary: 'List sagas, newest first, with filters and cursor pagination',
      description:
        'Every filter is answered by the saga log from its indexes (keyset pages): a filter that matches only old sagas still fills the first page. `total` counts the matches up to 10,000 (`totalCapped`: there are more).',
      request: { query: SagaListQuery },
      responses: { ...polled(SagaList, 'One page; pass `nextCursor` as `cursor` for the next.'), ...problems(400, 503) },
    },
    async (c) => {
      const q = parseQuery(c, SagaListQuery);
      const [page, total] = await Promise.all([querySagas(log, q), totalOf(log, q)]);
      return c.json({ sagas: page.sagas, nextCursor: page.nextCursor, ...total }, 200);
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/v1/sagas/{id}',
      tags: ['sagas'],
      summary: 'One saga: every log record, and its steps and compensations as a timeline',
      request: { params: IdParam },
      responses: { ...polled(SagaDetail, 'The saga.'), ...problems(400, 404, 503) },
    },
    async (c) => {
      const id = idOf(c);
      const saga = await log.load(id);
      if (!saga) throw new HttpProblem(404, 'SAGA_NOT_FOUND', `no saga "${id}" in the log`, { sagaId: id });
      const events = ctx.state.timings.events(id);
      const running = saga.status === 'running' || saga.status === 'compensating';
      const owner = ctx.app.engine.owner;
      const { bars, timeAxis } = timelineBars(saga.records, events, running, saga.recordTimes);
      const ownership = ownershipEvents(events ?? [], owner);
      // Only a saga that runs has a current lease; an ended or stuck one keeps a stale owner column.
      if (running && saga.owner !== null)
        ownership.push({ at: null, fencingToken: saga.fencingToken, owner: saga.owner, event: 'current lease' });
      return c.json(
        {
          ...summaryView(saga, recordFacts(saga.status, saga.records), saga.key ?? docIdOf(saga.input)),
          ...limitedInput(saga.input, ctx.opts.maxInputBytes),
          content: describeContent(await contentStateOf(ctx.app.stores.postgres, saga).catch(() => ({ state: 'none' as const }))),
          outputs: outputsOf(saga),
          records: recordViews(saga.records, saga.recordTimes),
          timeAxis,
          bars,
          ownership,
          actions: actionsView(ctx.app.engine.definition(saga.name, saga.version), saga),
          cancellation: cancellationOf(saga.records),
          errorGroups: errorGroups(bars, timeAxis === 'wall'),
        },
        200,
      );
    },
  );

  route(
    api,
    {
      method: 'post',
      path: '/v1/sagas/{id}/retry',
      tags: ['sagas'],
      summary: 'Operator retry of a stuck saga',
      description:
        'Takes the stuck saga and carries on in this server: forward after its pivot, else compensation. 409 `SAGA_NOT_STUCK` for any other status.',
      request: { params: IdParam, query: WaitQuery },
      responses: {
        200: json(SagaOutcomeSchema, 'The retry ended (completed, compensated, or stuck again).'),
        202: json(SagaOutcomeSchema, 'The retry is running; poll the saga.'),
        ...problems(400, 404, 409, 503),
      },
    },
    async (c) => {
      const q = parseQuery(c, WaitQuery);
      const id = idOf(c);
      const saga = await log.load(id);
      if (!saga) throw new HttpProblem(404, 'SAGA_NOT_FOUND', `no saga "${id}" in the log`, { sagaId: id });
      if (saga.status !== 'stuck')
        throw new HttpProblem(409, 'SAGA_NOT_STUCK', `saga ${id} is ${saga.status}, not stuck`, { sagaId: id, status: saga.status });
      const run = ctx.app.engine.retryStuck(id);
      const outcome = await waitUpTo(run, q.wait ?? 10, true);
      const location = `/v1/sagas/${encodeURIComponent(id)}`;
      if (!outcome) {
        c.header('Location', location);
        return c.json({ sagaId: id, saga: saga.name, status: 'running' as const, reason: null, location }, 202);
      }
      return c.json({ sagaId: id, saga: outcome.saga, status: outcome.status, reason: outcome.reason ?? null }, 200);
    },
  );

  route(
    api,
    {
      method: 'post',
      path: '/v1/sagas/{id}/cancel',
      tags: ['sagas'],
      summary: 'Cancel a saga before its pivot (it compensates)',
      description:
        'Before the pivot the saga is compensated (reason SAGA_CANCELLED), wherever it runs: another owner is fenced. Once the pivot has started it can only go forward: 409 `SAGA_NOT_CANCELLABLE`.',
      request: { params: IdParam, query: CancelQuery },
      responses: {
        200: json(SagaOutcomeSchema, 'The saga ended (compensated).'),
        202: json(SagaOutcomeSchema, 'The compensation is running; poll the saga.'),
        ...problems(400, 404, 409, 503),
      },
    },
    async (c) => {
      const q = parseQuery(c, CancelQuery);
      const id = idOf(c);
      const saga = await log.load(id);
      if (!saga) throw new HttpProblem(404, 'SAGA_NOT_FOUND', `no saga "${id}" in the log`, { sagaId: id });
      const outcome = await waitUpTo(
        cancelAndForget(ctx.app.engine, ctx.app.stores, id, q.reason ?? 'cancelled through the HTTP API', { by: q.by ?? 'http-api' }),
        q.wait ?? 10,
        true,
      );
      const location = `/v1/sagas/${encodeURIComponent(id)}`;
      if (!outcome) {
        c.header('Location', location);
        return c.json({ sagaId: id, saga: saga.name, status: 'compensating' as const, reason: null, location }, 202);
      }
      return c.json({ sagaId: id, saga: outcome.saga, status: outcome.status, reason: outcome.reason ?? null }, 200);
    },
  );

  route(
    api,
    {
      method: 'post',
      path: '/v1/sagas/bulk-retry',
      tags: ['sagas'],
      summary: 'Retry many stuck sagas; dry run by default',
      description:
        'Selects stuck sagas by `filter` or exactly `sagaIds`. With `dryRun` (the default) nothing is touched and `sagas` lists exactly what a real run would retry; send those ids back with `dryRun: false` to act on that list and no other.',
      request: { body: { required: true, content: { 'application/json': { schema: BulkRetryBody } } } },
      responses: {
        200: json(BulkRetryResult, 'What was (or would be) retried, and each result.'),
        ...problems(400, 413, 415, 422, 503),
        409: {
          description:
            '`SAGA_NOT_STUCK`: a listed `sagaIds` entry is unknown or not stuck; `sagaIds` in the problem names them. Nothing was retried.',
          content: { 'application/problem+json': { schema: Problem } },
        },
      },
    },
    async (c) => {
      const body = parseWith(BulkRetryBody, await readJsonBody(c, 64 * 1024), 'HTTP_INVALID_BODY', 422);
      const selected = body.sagaIds
        ? await Promise.all(body.sagaIds.slice(0, body.limit).map((id) => log.load(id)))
        : (await querySagas(log, { ...(body.filter ?? {}), stuck: true, limit: body.limit })).stored;
      const stuck = selected.filter((s) => s !== undefined && s.status === 'stuck');
      if (body.sagaIds && stuck.length !== Math.min(body.sagaIds.length, body.limit)) {
        const notStuck = body.sagaIds.filter((id) => !stuck.some((s) => s?.sagaId === id));
        throw new HttpProblem(409, 'SAGA_NOT_STUCK', `not stuck (or unknown): ${notStuck.slice(0, 10).join(', ')}`, { sagaIds: notStuck });
      }
      const sagas = stuck.flatMap((s) => (s ? [{ sagaId: s.sagaId, name: s.name, version: s.version, reason: s.reason }] : []));
      if (body.dryRun) return c.json({ dryRun: true, sagas, results: [] }, 200);
      const results = [];
      for (const s of sagas) {
        try {
          const outcome = await ctx.app.engine.retryStuck(s.sagaId);
          results.push({ sagaId: s.sagaId, status: outcome.status, error: null });
        } catch (err) {
          results.push({ sagaId: s.sagaId, status: null, error: { code: errorCode(err) ?? 'INTERNAL', message: errorMessage(err) } });
        }
      }
      return c.json({ dryRun: false, sagas, results }, 200);
    },
  );
}

type Ownership = { at: number | null; fencingToken: number | null; owner: string | null; event: string };

/** Starts, claims, takeovers and lost leases this server saw, oldest first, with their tokens. */
function ownershipEvents(events: readonly TimingEvent[], self: string): Ownership[] {
  const out: Ownership[] = [];
  for (const e of events) {
    if (e.kind === 'saga_start' && !e.resumed) out.push({ at: e.t, fencingToken: null, owner: self, event: 'started by this server' });
    else if (e.kind === 'claim')
      out.push({
        at: e.t,
        fencingToken: e.fencingToken ?? null,
        owner: self,
        event: `claimed (${e.via ?? '?'})${e.previousOwner ? ` from ${e.previousOwner}` : ''}`,
      });
    else if (e.kind === 'takeover')
      out.push({
        at: e.t,
        fencingToken: e.fencingToken ?? null,
        owner: self,
        event: `takeover from ${e.previousOwner ?? '?'} (${e.via ?? '?'})`,
      });
    else if (e.kind === 'lease_lost')
      out.push({ at: e.t, fencingToken: e.fencingToken ?? null, owner: self, event: 'lease lost: this server stopped' });
    else if (e.kind === 'fenced') out.push({ at: e.t, fencingToken: null, owner: self, event: 'fenced: another owner holds it now' });
  }
  return out;
}

/** The outcome if `p` settles within `seconds`; an early rejection (refused, not found) is thrown. */
async function waitUpTo(p: Promise<SagaOutcome>, seconds: number, rethrow = false): Promise<SagaOutcome | undefined> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => undefined);
  try {
    const timeout = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), seconds * 1000)));
    return await Promise.race([rethrow ? p : p.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
