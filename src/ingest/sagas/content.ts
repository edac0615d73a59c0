// Content by reference (docs/erasure.md): a saga's input in the log holds the document's id and
// content hash, never its title, text or metadata. The front stages the content in PostgreSQL
// (saga_inputs, keyed by saga id) before the saga begins; the steps that need it read it from
// there, and the saga removes it when it ends. Sagas logged before this design carry the document
// inline (`doc`): both shapes are read, only the reference is written.
import { markError } from '../../lib/errors.js';
import type { StoreSet } from '../../stores/types.js';
import type { ValidDocument } from '../schema.js';
import type { StagedContentCache } from './content-cache.js';

/** The ingest/update saga's logged input. */
export type IngestInput = IngestRef | LegacyIngestInput;

/** What new sagas log: ids and hashes only. */
export interface IngestRef {
  docId: string;
  /** Content hash of this version (contentSha256 of the staged document). */
  sha: string;
  /** The version committed when the saga was planned; null for a new document. */
  previousSha: string | null;
}

/** Logs written before content by reference: the document inline (still recovered, never written). */
export interface LegacyIngestInput {
  doc: ValidDocument;
  sha: string;
  previousSha: string | null;
}

export function isLegacyInput(input: IngestInput): input is LegacyIngestInput {
  return typeof (input as Partial<LegacyIngestInput>).doc === 'object' && (input as Partial<LegacyIngestInput>).doc !== null;
}

export function docIdOf(input: IngestInput): string {
  return isLegacyInput(input) ? input.doc.id : input.docId;
}

/**
 * The staged content is gone while the saga still needs it (removed by the sweep, or never
 * staged): retrying cannot bring it back, so a saga before its pivot compensates.
 */
export class ContentErasedError extends Error {
  readonly code = 'CONTENT_ERASED';
  readonly retryable = false;
  constructor(sagaId: string, docId: string) {
    super(`the content of saga ${sagaId} (document ${JSON.stringify(docId)}) is no longer staged (erased or never staged)`);
    this.name = 'ContentErasedError';
    markError(this);
  }
}

/**
 * The document a step writes: inline (old logs) or the staged content of this saga, from this
 * process's memory when it staged or read it before (content-cache.ts), else from PostgreSQL.
 */
export async function documentOf(stores: StoreSet, sagaId: string, input: IngestInput, cache?: StagedContentCache): Promise<ValidDocument> {
  if (isLegacyInput(input)) return input.doc;
  const held = cache?.get(sagaId, input.docId, input.sha);
  if (held) return held;
  const staged = await stores.postgres.stagedInput(sagaId);
  if (!staged || staged.docId !== input.docId) throw new ContentErasedError(sagaId, input.docId);
  const doc = { id: input.docId, title: staged.content.title, text: staged.content.text, metadata: staged.content.metadata };
  cache?.put(sagaId, doc, input.sha);
  return doc;
}

/** The saga no longer needs its content (it ended, or its last step ran): remove what was staged. */
export async function dropContent(stores: StoreSet, sagaId: string, cache?: StagedContentCache): Promise<void> {
  cache?.forget(sagaId);
  await stores.postgres.dropStagedInputs([sagaId]);
  cache?.markDropped(sagaId);
}
