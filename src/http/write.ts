// The document write path behind POST/PUT/DELETE: idempotency keys, running the saga here or
// queueing it for workers, and waiting (?wait=) for its end. The answer is one of:
//   200/201 the saga ended and the document is committed (201: it did not exist before);
//   202     the saga has not ended yet (still running, queued, or stuck): poll `Location`;
//   409/503 the saga compensated (problem: nothing of this write is visible; 503 = safe to retry).
import { createHash, randomUUID } from 'node:crypto';
import type { Context } from 'hono';
import type { ValidDocument } from '../ingest/schema.js';
import { contentSha256 } from '../ingest/prepare.js';
import { submitIngest } from '../fleet/submit.js';
import type { WriteAction } from '../ingest/writer.js';
import type { SagaOutcome } from '../saga/index.js';
import type { ApiContext } from './context.js';
import { HttpProblem, problemResponse } from './problem.js';
import { errorCode } from '../lib/errors.js';

const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** The saga id an Idempotency-Key maps to (same key, same saga). */
export function sagaIdForKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  if (!KEY_RE.test(key)) {
    throw new HttpProblem(400, 'HTTP_INVALID_PARAMETER', 'Idempotency-Key: 1-200 printable ASCII characters', { field: 'Idempotency-Key' });
  }
  return `idem-${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32)}`;
}

interface Ended {
  docId: string;
  action: WriteAction;
  sagaId: string | null;
  outcome: SagaOutcome | undefined;
}

export async function writeDocument(c: Context, ctx: ApiContext, doc: ValidDocument, waitS: number | undefined): Promise<Response> {
  const { engine, writer } = ctx.app;
  const keyed = sagaIdForKey(c);
  if (keyed !== undefined) {
    const existing = await engine.log.load(keyed);
    if (existing) {
      // Both input shapes: { docId } (content by reference) and { doc } (logs written before it).
      const input = existing.input as { doc?: { id?: unknown }; docId?: unknown; sha?: unknown } | null;
      const loggedId = input?.docId ?? input?.doc?.id;
      if (existing.name === 'delete' || loggedId !== doc.id || input?.sha !== contentSha256(doc)) {
        throw new HttpProblem(409, 'HTTP_IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request body', {
          sagaId: keyed,
        });
      }
      const action = (input as { previousSha?: unknown }).previousSha === null ? 'created' : 'updated';
      return awaitSaga(c, ctx, doc.id, action, keyed, waitS);
    }
  }
  const prepared = await writer.prepareIngest(doc);
  if (!prepared) return ended(c, ctx, { docId: doc.id, action: 'unchanged', sagaId: null, outcome: undefined });
  const sagaId = keyed ?? randomUUID();
  if (ctx.opts.mode === 'enqueue') {
    await submitIngest(ctx.app, doc, { sagaId });
    return awaitSaga(c, ctx, doc.id, prepared.action, sagaId, waitS);
  }
  const run = writer.ingest(doc, { sagaId });
  run.catch(() => undefined); // its outcome is in the saga log; a late failure is not a request error
  await startedOrDone(ctx, sagaId, run);
  return race(
    c,
    ctx,
    run.then((r) => ({ docId: doc.id, action: r.action, sagaId: r.sagaId ?? null, outcome: outcomeOf(r) })),
    doc.id,
    prepared.action,
    sagaId,
    waitS,
  );
}

export async function deleteDocument(c: Context, ctx: ApiContext, docId: string, waitS: number | undefined): Promise<Response> {
  const keyed = sagaIdForKey(c);
  if (keyed !== undefined) {
    const existing = await ctx.app.engine.log.load(keyed);
    if (existing) {
      if (existing.name !== 'delete' || (existing.input as { docId?: unknown } | null)?.docId !== docId) {
        throw new HttpProblem(409, 'HTTP_IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used with a different request', {
          sagaId: keyed,
        });
      }
      return awaitSaga(c, ctx, docId, 'deleted', keyed, waitS);
    }
  }
  const row = await ctx.app.stores.postgres.getDocument(docId);
  if (!row) throw new HttpProblem(404, 'DOC_NOT_FOUND', `no document "${docId}"`, { docId });
  const sagaId = keyed ?? randomUUID();
  if (ctx.opts.mode === 'enqueue') {
    const prepared = await ctx.app.writer.prepareDelete(docId);
    if (!prepared) throw new HttpProblem(404, 'DOC_NOT_FOUND', `no document "${docId}"`, { docId });
    await ctx.app.engine.submit(prepared.def, prepared.input, { sagaId, key: docId });
    return awaitSaga(c, ctx, docId, 'deleted', sagaId, waitS);
  }
  const run = ctx.app.writer.delete(docId, { sagaId });
  run.catch(() => undefined);
  await startedOrDone(ctx, sagaId, run);
  return race(
    c,
    ctx,
    run.then((r) => ({ docId, action: r.action, sagaId: r.sagaId ?? null, outcome: outcomeOf(r) })),
    docId,
    'deleted',
    sagaId,
    waitS,
  );
}

/**
 * A 202's Location must be pollable at once: wait until the saga is in the log (its start hook),
 * or its run ended (then the outcome is known). A write queued behind another write of the same
 * document waits here for that one.
 */
async function startedOrDone(ctx: ApiContext, sagaId: string, run: Promise<unknown>): Promise<void> {
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([ctx.state.timings.started(sagaId), settled]);
  void settled.then(() => ctx.state.timings.forget(sagaId));
}

function outcomeOf(r: { sagaId?: string; status: string; reason?: SagaOutcome['reason'] }): SagaOutcome | undefined {
  if (r.sagaId === undefined || r.status === 'skipped') return undefined;
  return {
    sagaId: r.sagaId,
    saga: '',
    status: r.status as SagaOutcome['status'],
    results: {},
    executed: true,
    ...(r.reason ? { reason: r.reason } : {}),
  };
}

/** Waits up to waitS for a saga run elsewhere (a worker, another request) to end. */
async function awaitSaga(
  c: Context,
  ctx: ApiContext,
  docId: string,
  action: WriteAction,
  sagaId: string,
  waitS: number | undefined,
): Promise<Response> {
  // The engine's watch handle: never engine.settle(), which takes over a saga nobody holds (a
  // queued saga is held by nobody until a worker claims it: the API would run it itself instead of
  // leaving it to the workers). result() waits on the log's notifications where it has them.
  const handle = ctx.app.engine.watch(sagaId);
  if (!waitS) {
    const outcome = await handle.outcome();
    return outcome ? ended(c, ctx, { docId, action, sagaId, outcome }) : accepted(c, ctx, docId, action, sagaId);
  }
  const done = handle.result({ timeoutMs: waitS * 1000 });
  done.catch(() => undefined);
  return race(
    c,
    ctx,
    done.then((outcome) => ({ docId, action, sagaId, outcome })),
    docId,
    action,
    sagaId,
    waitS,
  );
}

async function race(
  c: Context,
  ctx: ApiContext,
  done: Promise<Ended>,
  docId: string,
  action: WriteAction,
  sagaId: string,
  waitS: number | undefined,
): Promise<Response> {
  const ms = (waitS ?? 0) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    // Even with no wait: a run that already ended (e.g. refused at its start) answers with that.
    const r = await Promise.race([done.catch(waitError), timeout]);
    if (r === undefined || r === 'timeout') return accepted(c, ctx, docId, action, sagaId);
    return ended(c, ctx, r);
  } finally {
    clearTimeout(timer);
  }
}

function waitError(err: unknown): 'timeout' {
  if (errorCode(err) === 'SAGA_WAIT_TIMEOUT') return 'timeout';
  throw err;
}

async function ingestionStatus(ctx: ApiContext, docId: string): Promise<{ ingestionStatus: string; contentSha256: string | null }> {
  const row = await ctx.app.stores.postgres.getDocument(docId);
  return { ingestionStatus: row?.ingestionStatus ?? 'absent', contentSha256: row?.contentSha256 ?? null };
}

async function accepted(c: Context, ctx: ApiContext, docId: string, action: WriteAction, sagaId: string): Promise<Response> {
  const saga = await ctx.app.engine.log.load(sagaId);
  const location = `/v1/sagas/${encodeURIComponent(sagaId)}`;
  c.header('Location', location);
  const sagaStatus = saga?.status ?? 'pending';
  // Nothing has been created or deleted yet: say what the answer is (queued / in progress) and
  // keep the intended action apart, so a client never reads "deleted" for a pending delete.
  const now = sagaStatus === 'pending' ? 'queued' : 'in_progress';
  const intent = action === 'created' || action === 'updated' || action === 'deleted' ? { intent: action } : {};
  return c.json(
    {
      docId,
      action: now,
      ...intent,
      sagaId,
      sagaStatus,
      ...(await ingestionStatus(ctx, docId)),
      location,
      ...(saga?.reason ? { reason: saga.reason } : {}),
    },
    202,
  );
}

async function ended(c: Context, ctx: ApiContext, r: Ended): Promise<Response> {
  const doc = await ingestionStatus(ctx, r.docId);
  if (r.outcome === undefined) {
    return c.json({ docId: r.docId, action: r.action, sagaId: r.sagaId, sagaStatus: 'skipped', ...doc }, 200);
  }
  const { outcome } = r;
  if (outcome.status === 'stuck') return accepted(c, ctx, r.docId, r.action, outcome.sagaId);
  if (outcome.status === 'compensated') {
    const conflict = outcome.reason?.code === 'STORE_CONFLICT';
    return problemResponse(
      c,
      conflict ? 409 : 503,
      conflict ? 'WRITE_CONFLICT' : 'WRITE_COMPENSATED',
      `the write was rolled back: ${outcome.reason ? `[${outcome.reason.code}] ${outcome.reason.message}` : 'a step failed'}`,
      { docId: r.docId, sagaId: outcome.sagaId, sagaStatus: 'compensated', ...doc, reason: outcome.reason ?? null, retryable: !conflict },
    );
  }
  return c.json(
    { docId: r.docId, action: r.action, sagaId: outcome.sagaId, sagaStatus: outcome.status, ...doc },
    r.action === 'created' ? 201 : 200,
  );
}
