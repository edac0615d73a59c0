// Fleet mode's write path: instead of running the ingest saga here, store it in the saga log as
// `pending` for a worker to claim (`apex-memory ingest --submit`, the HTTP API, tests). The
// decision and the saga input are the writer's own (MemoryWriter.prepareIngest), so a worker runs
// exactly what `ingest` would have run in this process.
//
// The input carries `previousSha` as seen at submit time; if another version commits before a
// worker runs this saga, the commit's optimistic check refuses it (STORE_CONFLICT) and the saga
// compensates, as it would in process.
import type { MemoryWriter } from '../ingest/writer.js';
import type { ValidDocument } from '../ingest/schema.js';
import type { SagaEngine, SagaLogBackend } from '../saga/index.js';

export interface SubmitResult {
  docId: string;
  /** 'unchanged': the content is already committed, nothing was queued. */
  action: 'created' | 'updated' | 'unchanged';
  sagaId?: string;
  /** false when a saga with this id was already in the log (submitting is idempotent by id). */
  queued: boolean;
}

export async function submitIngest(
  app: { engine: SagaEngine<SagaLogBackend>; writer: MemoryWriter },
  doc: ValidDocument,
  opts: { sagaId?: string } = {},
): Promise<SubmitResult> {
  const prepared = await app.writer.prepareIngest(doc);
  if (!prepared) return { docId: doc.id, action: 'unchanged', queued: false };
  const { sagaId, created } = await app.engine.submit(prepared.def, prepared.input, { ...opts, key: doc.id });
  return { docId: doc.id, action: prepared.action, sagaId, queued: created };
}
