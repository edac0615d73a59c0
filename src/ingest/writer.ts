// The memory write path: decides what a document needs (nothing, an ingest, an update) and runs
// the matching saga on the engine; deletes run the delete saga. Bad input is rejected here,
// before any saga starts, so it writes nothing.
//
// Content by reference (docs/erasure.md): the saga log gets the document's id and hash; its content
// is staged in PostgreSQL under the saga's id before the saga begins (stageContent) and removed
// when the saga ends (by the saga's last action, again here once it ended, and by the sweep).
import { isFinal, type ErrorInfo, type SagaEngine, type SagaLogQueries, type SagaOutcome, type SagaDefinition } from '../saga/index.js';
import type { StoreSet } from '../stores/types.js';
import { chunkText } from './chunk.js';
import { BusyHolders, clearHolder, settleEarlier } from './holder.js';
import type { Embedder } from './embedder.js';
import { resolveLimits, type IngestLimits } from './limits.js';
import { contentSha256 } from './prepare.js';
import type { ValidDocument } from './schema.js';
import { deleteSaga } from './sagas/delete-saga.js';
import { ingestSaga, type IngestPlan } from './sagas/ingest-saga.js';
import { budgetFor, type OutageBudgets } from './sagas/outage-budget.js';
import { rideOut } from './ride-out.js';
import { endedOf } from './staged-sweep.js';
import type { StoreWaits } from './store-waits.js';
import type { DeleteInput, IngestInput } from './sagas/version.js';
import { newSagaId } from '../saga/index.js';
import { isLogOutage, SagaInDoubtError } from './in-doubt.js';
import type { VectorTargets } from './reindex/targets.js';
import { chunkingPlan } from './reindex/chunkings.js';
import { CHUNKING_VERSION } from './reindex/state.js';
import { StagedContentCache } from './sagas/content-cache.js';

export type WriteAction = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

export interface WriteResult {
  docId: string;
  action: WriteAction;
  /** 'skipped' when no saga was needed (unchanged content, absent document). */
  status: SagaOutcome['status'] | 'skipped';
  sagaId?: string;
  reason?: ErrorInfo;
  durationMs: number;
}

export interface PreparedIngest {
  def: SagaDefinition<IngestInput, Record<string, unknown>>;
  input: IngestInput;
  action: 'created' | 'updated';
  /** The content to stage under the saga's id before it begins (never logged). */
  doc: ValidDocument;
}

export interface WriterOptions {
  stores: StoreSet;
  engine: SagaEngine;
  embedder: Embedder;
  plan?: IngestPlan;
  limits?: Partial<IngestLimits>;
  stepTimeoutMs?: number;
  /** How long each step retries a store that is down (sagas/outage-budget.ts; default 60 s). */
  outage?: OutageBudgets;
  /** Told which documents wait on a store that is down before their saga begins. */
  waits?: StoreWaits;
  /** The vector steps use the embedding cache (APEX_EMBEDDING_CACHE, chunk-embeddings.ts). */
  cacheEmbeddings?: boolean;
  /** Take a holder whose owner is gone over while a step waits for its document (holder.ts
   * BusyHolders; default true). The exhaustive scopes turn it off: its log reads double their
   * executions, and the settle it runs is the pre-check's (clearHolder), which they cover. */
  busyTakeover?: boolean;
  /** The same choice for any embedder (the other targets' during a reindex: sagas/cache-choice.ts). */
  cacheFor?: (embedder: Embedder) => boolean;
  /** The vector targets of the active index record: dual writes during a reindex (docs/reindex.md). */
  targets?: VectorTargets;
  /** The log's queries: a delete finishes earlier unended sagas on its document first (holder.ts
   * settleEarlier). Without it, only the saga holding the document is finished first. */
  logQueries?: Pick<SagaLogQueries, 'list'>;
}

export class MemoryWriter {
  readonly plan: IngestPlan;
  private readonly ingestDef: SagaDefinition<IngestInput, Record<string, unknown>>;
  private readonly deleteDef: SagaDefinition<DeleteInput, Record<string, unknown>>;
  /** One write per document at a time in this process; across processes the single-writer rule
   * in PostgreSQL (document_locks) orders them, and clearHolder finishes a dead run's saga first. */
  private readonly busy = new Map<string, Promise<unknown>>();
  /** Documents whose chunk count passed the limit, with the text that passed (checkChunks). */
  private readonly chunkChecked = new WeakMap<ValidDocument, string>();
  /** The contents this process staged, for its own sagas' steps (sagas/content-cache.ts). */
  private readonly content = new StagedContentCache();

  /** Holders its sagas' steps met (holder.ts): a dead owner's saga is finished while they wait. */
  readonly busyHolders: BusyHolders;

  constructor(private readonly opts: WriterOptions) {
    this.plan = opts.plan ?? 'default';
    this.busyHolders = new BusyHolders(opts.engine);
    const deps = {
      ...(opts.busyTakeover === false ? {} : { onBusy: this.busyHolders.onBusy }),
      stores: opts.stores,
      embedder: opts.embedder,
      limits: opts.limits,
      stepTimeoutMs: opts.stepTimeoutMs,
      outage: opts.outage,
      cacheEmbeddings: opts.cacheEmbeddings === true,
      ...(opts.cacheFor ? { cacheFor: opts.cacheFor } : {}),
      ...(opts.targets ? { targets: opts.targets } : {}),
      content: this.content,
    };
    this.ingestDef = ingestSaga(deps, this.plan);
    this.deleteDef = deleteSaga({ ...deps, endedSagas: endedOf(opts.engine.log) });
    // Every plan is registered so that recovery can finish sagas started under another plan.
    opts.engine.register(ingestSaga(deps, 'default'), ingestSaga(deps, 'adr'), this.deleteDef);
  }

  /** Writes `doc` (already validated) into all four stores, or leaves it as it was. */
  ingest(doc: ValidDocument, opts: { sagaId?: string } = {}): Promise<WriteResult> {
    // Too many chunks is bad input: reject before anything is written.
    this.checkChunks(doc);
    return this.exclusive(doc.id, async () => {
      const t0 = performance.now();
      const prepared = await this.beforeSaga(doc.id, this.ingestDef.name, async () => {
        await clearHolder(this.opts.stores.postgres, this.opts.engine, doc.id, opts.sagaId);
        return this.prepareIngest(doc);
      });
      if (!prepared) return { docId: doc.id, action: 'unchanged', status: 'skipped', durationMs: performance.now() - t0 };
      const sagaId = opts.sagaId ?? newSagaId();
      // Ridden out like the reads before it: a PostgreSQL failover that meets this insert (a
      // repeat keeps the first row) must not end the document as an error (issue 24).
      await this.beforeSaga(doc.id, this.ingestDef.name, () => this.stageContent(sagaId, doc));
      const outcome = await this.execute(doc.id, prepared.def, prepared.input, { ...opts, sagaId });
      // The saga's last action removed its content (here, unless it ran elsewhere); an idempotent
      // repeat of an ended saga staged it again.
      this.content.forget(outcome.sagaId);
      const droppedHere = this.content.takeDropped(outcome.sagaId);
      if (isFinal(outcome.status) && !droppedHere)
        await this.opts.stores.postgres.dropStagedInputs([outcome.sagaId]).catch(() => undefined);
      return result(doc.id, prepared.action, outcome, t0);
    });
  }

  /**
   * The saga `ingest` would run for `doc` (validated), without running it: undefined when the
   * content is already committed. `engine.submit` queues exactly this for a worker (fleet mode).
   */
  async prepareIngest(doc: ValidDocument): Promise<PreparedIngest | undefined> {
    this.checkChunks(doc);
    await this.checkOtherChunkings(doc);
    const sha = contentSha256(doc);
    const row = await this.opts.stores.postgres.getDocument(doc.id);
    const previousSha = row?.contentSha256 ?? null;
    if (previousSha === sha && row?.ingestionStatus === 'committed') return undefined;
    const input: IngestInput = { docId: doc.id, sha, previousSha };
    return { def: this.ingestDef, input, action: previousSha === null ? 'created' : 'updated', doc };
  }

  /**
   * Rejects a document with too many chunks. Once per document object: the API prepares a
   * document (for its answer's action) and then ingests the same object, and prepareIngest runs
   * again inside ingest; chunking a large text three times for one limit check was waste.
   */
  private checkChunks(doc: ValidDocument): void {
    if (this.chunkChecked.get(doc) === doc.text) return; // the same text checked already
    chunkText(doc.text, resolveLimits(this.opts.limits));
    this.chunkChecked.set(doc, doc.text);
  }

  /** The same limit in every other chunking the sagas will cut (a re-chunking reindex's dual
   * writes, docs/reindex.md): refused here rather than compensated mid-saga. */
  private async checkOtherChunkings(doc: ValidDocument): Promise<void> {
    if (!this.opts.targets) return;
    const plan = await chunkingPlan(this.opts.targets, this.opts.limits);
    for (const k of plan.all) if (k !== CHUNKING_VERSION) chunkText(doc.text, resolveLimits(plan.limits(k)));
  }

  /** Stages `doc`'s content for saga `sagaId`: before the saga begins (or is queued), never after. */
  async stageContent(sagaId: string, doc: ValidDocument): Promise<void> {
    await this.opts.stores.postgres.stageInput(sagaId, doc.id, { title: doc.title, text: doc.text, metadata: doc.metadata });
    this.content.put(sagaId, doc, contentSha256(doc));
  }

  /** The delete saga `delete` would run, without running it (fleet mode queues it); undefined when absent. */
  async prepareDelete(
    docId: string,
  ): Promise<{ def: SagaDefinition<DeleteInput, Record<string, unknown>>; input: DeleteInput } | undefined> {
    const row = await this.opts.stores.postgres.getDocument(docId);
    if (!row) return undefined;
    return { def: this.deleteDef, input: { docId, sha: row.contentSha256 } };
  }

  delete(docId: string, opts: { sagaId?: string } = {}): Promise<WriteResult> {
    return this.exclusive(docId, async () => {
      const t0 = performance.now();
      const row = await this.beforeSaga(docId, this.deleteDef.name, async () => {
        if (this.opts.logQueries) await settleEarlier(this.opts.logQueries, this.opts.engine, docId, opts.sagaId);
        await clearHolder(this.opts.stores.postgres, this.opts.engine, docId, opts.sagaId);
        return this.opts.stores.postgres.getDocument(docId);
      });
      if (!row) return { docId, action: 'absent', status: 'skipped', durationMs: performance.now() - t0 };
      const input: DeleteInput = { docId, sha: row.contentSha256 }; // ids and hashes only (docs/erasure.md)
      const outcome = await this.execute(docId, this.deleteDef, input, opts);
      return result(docId, 'deleted', outcome, t0);
    });
  }

  /**
   * Runs the saga under an id known here, so that a saga whose log failed for good (past the
   * outage budget, src/log/ride-out-log.ts) is reported as in doubt with that id: it may still
   * commit, and is never reported as not written.
   */
  private async execute<I>(
    docId: string,
    def: SagaDefinition<I, Record<string, unknown>>,
    input: I,
    opts: { sagaId?: string },
  ): Promise<SagaOutcome> {
    const sagaId = opts.sagaId ?? newSagaId();
    try {
      return await this.opts.engine.execute(def, input, { ...opts, sagaId, key: docId });
    } catch (err) {
      if (isLogOutage(err)) throw new SagaInDoubtError(sagaId, docId, err);
      throw err;
    }
  }

  /** The reads before a saga begins ride out a PostgreSQL outage like the saga's first step. */
  private beforeSaga<T>(docId: string, saga: string, work: () => Promise<T>): Promise<T> {
    const first = saga === 'delete' ? 'postgres_mark_deleting' : 'postgres_pending';
    const budgetMs = budgetFor(this.opts.outage, saga, first);
    const waits = this.opts.waits;
    const key = `doc:${docId}`;
    return rideOut(work, budgetMs, waits && ((err) => (err ? waits.note(key, err.store) : waits.clear(key))));
  }

  private async exclusive<T>(docId: string, work: () => Promise<T>): Promise<T> {
    for (let prior = this.busy.get(docId); prior; prior = this.busy.get(docId)) await prior.catch(() => undefined);
    const p = work();
    this.busy.set(docId, p);
    try {
      return await p;
    } finally {
      if (this.busy.get(docId) === p) this.busy.delete(docId);
    }
  }
}

function result(docId: string, action: WriteAction, outcome: SagaOutcome, t0: number): WriteResult {
  const r: WriteResult = { docId, action, status: outcome.status, sagaId: outcome.sagaId, durationMs: performance.now() - t0 };
  if (outcome.reason) r.reason = outcome.reason;
  return r;
}
