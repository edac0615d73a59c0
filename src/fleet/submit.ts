// Fleet mode's write path: instead of running the ingest saga here, store it in the saga log as
// `pending` for a worker to claim (`apex-memory ingest --submit`, the HTTP API, tests). The
// decision and the saga input are the writer's own (MemoryWriter.prepareIngest), so a worker runs
// exactly what `ingest` would have run in this process.
//
// The input carries `previousSha` as seen at submit time; if another version commits before a
// worker runs this saga, the commit's optimistic check refuses it (STORE_CONFLICT) and the saga
// compensates, as it would in process.
//
// The document's content is staged under the saga's id before the saga is queued (the log holds
// only its id and hash: docs/erasure.md), so the worker that claims it finds it.

import { isFinal, newSagaId } from '../saga/index.js';
import type { MemoryWriter } from '../ingest/writer.js';
import type { ValidDocument } from '../ingest/schema.js';
import type { SagaEngine, SagaLogBackend } from '../saga/index.js';
import type { StoreSet } from '../stores/types.js';

export interface SubmitResult {
  docId: string;
  /** 'unchanged': the content is already committed, nothing was queued. */
  action: 'created' | 'updated' | 'unchanged';
  sagaId?: string;
  /** false when a saga with this id was already in the log (submitting is idempotent by id). */
  queued: boolean;
}

export async function submitIngest(
  app: { engine: SagaEngine<SagaLogBackend>; writer: MemoryWriter; stores: StoreSet },
  doc: ValidDocument,
  opts: { sagaId?: string } = {},
): Promise<SubmitResult> {
  const prepared = await app.writer.prepareIngest(doc);
  if (!prepared) return { docId: doc.id, action: 'unchanged', queued: false };
  const id = opts.sagaId ?? newSagaId();
  await app.writer.stageContent(id, doc);
  const { sagaId, created } = await app.engine.submit(prepared.def, prepared.input, { ...opts, sagaId: id, key: doc.id });
  if (!created) {
    // A repeat of a queued id: an ended saga needs no content (the sweep would remove it later).
    const existing = await app.engine.log.load(sagaId);
    if (existing && isFinal(existing.status)) await app.stores.postgres.dropStagedInputs([sagaId]);
  }
  return { docId: doc.id, action: prepared.action, sagaId, queued: created };
}
