// One group commit on PostgreSQL: all queued begins as one INSERT, all queued appends as one
// statement (see postgres/sql.ts). Ops that the statement turned down get their own error; if a
// whole statement fails unexpectedly, its ops are retried one by one so only a broken one fails.
import pg from 'pg';
import type { AppendRequest, BeginRequest, BeginResult, SagaStatus, SagaError } from '../../saga/index.js';
import { failure, fencedError, notFoundError, seqError } from '@apex-memory/saga/log-kit';
import type { logStatements, SummaryRow } from './sql.js';
import { toSummary } from './sql.js';
import { withConnection } from './connection.js';
import { errorCode } from '../../lib/errors.js';

type Statements = ReturnType<typeof logStatements>;

export interface QueuedBegin {
  kind: 'begin';
  req: BeginRequest;
  inputJson: string;
  /** JSON text of req.records (written at seq 0.. when the saga is created). */
  recordTexts: string[];
  metaJson: string | null;
  resolve(result: BeginResult): void;
  reject(err: unknown): void;
}

export interface QueuedAppend {
  kind: 'append';
  req: AppendRequest;
  texts: string[];
  status: SagaStatus | null;
  reasonJson: string | null;
  resolve(): void;
  reject(err: unknown): void;
}

function dbFailure(what: string, err: unknown): SagaError {
  return failure(`PostgreSQL saga log ${what} failed: ${(err as Error).message}`, err);
}

const DEADLOCK = '40P01';
const SERIALIZATION = '40001';

function isRetryable(err: unknown): boolean {
  const code = errorCode(err);
  return code === DEADLOCK || code === SERIALIZATION;
}

/**
 * Runs `attempt` on the whole batch. A deadlock or serialization failure rolled the statement back,
 * so it is simply retried; any other error is retried once per op so that only a broken op fails.
 */
async function isolated<T extends { reject(err: unknown): void }>(
  ops: T[],
  what: string,
  attempt: (ops: T[]) => Promise<void>,
): Promise<void> {
  let tries = 0;
  for (;;) {
    try {
      await attempt(ops);
      return;
    } catch (err) {
      if (isRetryable(err) && ++tries < 5) continue;
      await isolateFailure(ops, what, attempt, err);
      return;
    }
  }
}

async function isolateFailure<T extends { reject(err: unknown): void }>(
  ops: T[],
  what: string,
  attempt: (ops: T[]) => Promise<void>,
  err: unknown,
): Promise<void> {
  if (ops.length === 1) {
    ops[0]?.reject(dbFailure(what, err));
    return;
  }
  await Promise.all(ops.map((op) => isolated([op], what, attempt)));
}

/**
 * The pool the group commits run on. Its connections use PostgreSQL's generic plans for the batch
 * statements: left to choose, PostgreSQL re-planned the append statement on every execution (its
 * custom plan looks cheaper for the array sizes it sees: pg_prepared_statements showed 1,280
 * custom plans and 0 generic ones after 1,280 appends), and planning that CTE cost as much as
 * running it (docs/performance.md). Other queries (claims, lists with optional filters) keep
 * custom plans on the log's main pool.
 */
export function openBatchPool(config: pg.PoolConfig, pooler: 'none' | 'transaction' = 'none'): pg.Pool {
  const pool = new pg.Pool(config);
  // An idle client's socket error (server restart) must not crash the process.
  pool.on('error', () => undefined);
  if (pooler === 'transaction') behindPooler.add(pool);
  return pool;
}

/**
 * Pools behind a transaction pooler (PgBouncer): consecutive statements may run on different
 * server connections, so no named statement (it may not exist there) and no SET (it would stay
 * on a server connection another client gets next). Their statements are unnamed and planned
 * per execution.
 */
const behindPooler = new WeakSet<pg.Pool>();

/** Connections of a batch pool that already use generic plans. */
const generic = new WeakSet<pg.PoolClient>();

/**
 * Named statements are parsed once per connection, and (see openBatchPool) planned once. The
 * setting is made with SET on a connection's first use rather than as a startup option, which
 * PgBouncer refuses; a server without it (PostgreSQL < 12) keeps custom plans, as before.
 */
async function run<R extends object>(pool: pg.Pool, name: string, text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
  if (behindPooler.has(pool)) return withConnection(pool, (client) => client.query<R>(text, values));
  return withConnection(pool, async (client) => {
    if (!generic.has(client)) {
      await client.query('SET plan_cache_mode = force_generic_plan').catch(() => undefined);
      generic.add(client);
    }
    return client.query<R>({ name, text, values });
  });
}

/** The begin statement's per-record arrays ($10..$13) for the sagas' first records. */
function firstRecordColumns(rows: QueuedBegin[]): [string[], number[], string[], string[]] {
  const ids: string[] = [];
  const seqs: number[] = [];
  const types: string[] = [];
  const texts: string[] = [];
  for (const op of rows) {
    op.recordTexts.forEach((text, i) => {
      ids.push(op.req.sagaId);
      seqs.push(i);
      types.push(op.req.records?.[i]?.type ?? '');
      texts.push(text);
    });
  }
  return [ids, seqs, types, texts];
}

export function commitBegins(pool: pg.Pool, sql: Statements, ops: QueuedBegin[]): Promise<void> {
  return isolated(ops, 'begin', async (batch) => {
    const first = new Map<string, QueuedBegin>();
    for (const op of batch) if (!first.has(op.req.sagaId)) first.set(op.req.sagaId, op);
    const rows = [...first.values()].sort((a, b) => compareIds(a.req.sagaId, b.req.sagaId));
    const running = (op: QueuedBegin): boolean => op.req.status === 'running';
    const res = await run<{ id: string }>(pool, sql.names.begin, sql.begin, [
      rows.map((op) => op.req.sagaId),
      rows.map((op) => op.req.name),
      rows.map((op) => op.req.version),
      rows.map((op) => op.req.status),
      rows.map((op) => op.inputJson),
      rows.map((op) => (running(op) ? op.req.owner : null)),
      rows.map((op) => (running(op) ? 1 : 0)),
      rows.map((op) => (running(op) ? op.req.leaseMs : null)),
      rows.map((op) => op.recordTexts.length),
      ...firstRecordColumns(rows),
      rows.map((op) => op.metaJson),
      rows.map((op) => op.req.deadlineAt ?? null),
      rows.map((op) => op.req.key ?? null),
    ]);
    const created = new Set(res.rows.map((r) => r.id));
    // Existing ids (and a repeated id within the batch) report the saga as it is now.
    const others = batch.filter((op) => !(created.has(op.req.sagaId) && first.get(op.req.sagaId) === op));
    const existing = new Map<string, SummaryRow>();
    let lookupError: unknown;
    if (others.length > 0) {
      // The insert has committed: a failing lookup must not re-run it, only fail those ops.
      try {
        const found = await pool.query<SummaryRow>(sql.summaries, [others.map((op) => op.req.sagaId)]);
        for (const row of found.rows) existing.set(row.id, row);
      } catch (err) {
        lookupError = err;
      }
    }
    for (const op of batch) {
      if (created.has(op.req.sagaId) && first.get(op.req.sagaId) === op) {
        op.resolve({ created: true, lease: { owner: (running(op) ? op.req.owner : null) ?? '', fencingToken: running(op) ? 1 : 0 } });
        continue;
      }
      const row = existing.get(op.req.sagaId);
      if (row) op.resolve({ created: false, existing: toSummary(row) });
      else if (lookupError !== undefined) op.reject(dbFailure('begin lookup', lookupError));
      else op.reject(failure(`saga ${op.req.sagaId} was neither created nor found`, undefined));
    }
  });
}

export async function commitAppends(pool: pg.Pool, sql: Statements, ops: QueuedAppend[]): Promise<void> {
  // One statement can advance a saga only once: a second append to the same saga in this batch
  // waits for the next round, in call order.
  let rest = ops;
  while (rest.length > 0) {
    const seen = new Set<string>();
    const round: QueuedAppend[] = [];
    const later: QueuedAppend[] = [];
    for (const op of rest) {
      if (seen.has(op.req.sagaId)) later.push(op);
      else {
        seen.add(op.req.sagaId);
        round.push(op);
      }
    }
    round.sort((a, b) => compareIds(a.req.sagaId, b.req.sagaId));
    await isolated(round, 'append', (batch) => appendRound(pool, sql, batch));
    rest = later;
  }
}

async function appendRound(pool: pg.Pool, sql: Statements, batch: QueuedAppend[]): Promise<void> {
  const ids: string[] = [];
  const tokens: number[] = [];
  const firstSeqs: number[] = [];
  const counts: number[] = [];
  const statuses: Array<string | null> = [];
  const reasons: Array<string | null> = [];
  const leases: Array<number | null> = [];
  const recIds: string[] = [];
  const recSeqs: number[] = [];
  const recTypes: string[] = [];
  const recTexts: string[] = [];
  for (const op of batch) {
    const { req } = op;
    ids.push(req.sagaId);
    tokens.push(req.lease.fencingToken);
    firstSeqs.push(req.firstSeq);
    counts.push(req.records.length);
    statuses.push(op.status);
    reasons.push(op.reasonJson);
    leases.push(req.leaseMs ?? null);
    for (let i = 0; i < req.records.length; i++) {
      recIds.push(req.sagaId);
      recSeqs.push(req.firstSeq + i);
      recTypes.push(req.records[i]?.type ?? '');
      recTexts.push(op.texts[i] ?? 'null');
    }
  }
  const res = await run<{ id: string }>(pool, sql.names.append, sql.append, [
    ids,
    tokens,
    firstSeqs,
    counts,
    statuses,
    reasons,
    leases,
    recIds,
    recSeqs,
    recTypes,
    recTexts,
  ]);
  const passed = new Set(res.rows.map((r) => r.id));
  const turnedDown = batch.filter((op) => !passed.has(op.req.sagaId));
  const why = new Map<string, SagaError>();
  if (turnedDown.length > 0) {
    // Rare path: explain each rejection. Tokens only grow, so a stale token still shows here.
    // The statement has committed: a failing lookup must not re-run it, only fail those ops.
    let state: Array<{ id: string; fencing_token: string; next_seq: number }>;
    try {
      state = (
        await pool.query<{ id: string; fencing_token: string; next_seq: number }>(sql.appendState, [turnedDown.map((op) => op.req.sagaId)])
      ).rows;
    } catch (err) {
      state = [];
      for (const op of turnedDown) why.set(op.req.sagaId, dbFailure('append rejected; its explanation', err));
    }
    const byId = new Map(state.map((r) => [r.id, r]));
    for (const op of turnedDown) {
      const { req } = op;
      if (why.has(req.sagaId)) continue;
      const row = byId.get(req.sagaId);
      if (row === undefined) why.set(req.sagaId, notFoundError(req.sagaId));
      else if (Number(row.fencing_token) !== req.lease.fencingToken) {
        why.set(req.sagaId, fencedError(req.sagaId, req.lease.fencingToken, Number(row.fencing_token)));
      } else why.set(req.sagaId, seqError(req.sagaId, req.firstSeq, row.next_seq));
    }
  }
  for (const op of batch) {
    const err = why.get(op.req.sagaId);
    if (err) op.reject(err);
    else op.resolve();
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
