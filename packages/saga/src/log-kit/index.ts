// @apex-memory/saga/log-kit: the pieces every SagaLogBackend shares (the error constructors the
// engine recognises, record-shape checks, the group-commit queue and the compact record codec).
// The SQLite and PostgreSQL logs of apex-memory build on it; so can a new backend.
export {
  checkAppendShape,
  closedError,
  definitionKeys,
  failure,
  fencedError,
  lastReason,
  lastStatus,
  metaText,
  nextReason,
  notFoundError,
  RECLAIMABLE,
  reportCommit,
  seqError,
  toJsonText,
} from './common.js';
export { GroupCommitQueue } from './group-commit.js';
export { decodeRecords, encodeRecords } from './record-codec.js';
export {
  checkCap,
  checkFilter,
  checkKey,
  checkPage,
  encodeCursor,
  failedSteps,
  isRetrying,
  positionNumber,
  positionText,
  MAX_FILTER_TEXT,
  MAX_KEY_LENGTH,
} from './query.js';
export type { CheckedFilter, CheckedPage } from './query.js';
