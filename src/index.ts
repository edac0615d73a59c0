// apex-memory: the memory write path. The saga engine alone is `apex-memory/saga`.
export { openApp } from './app.js';
export type { App, AppOptions } from './app.js';
export { MemoryWriter } from './ingest/writer.js';
export type { WriteResult, WriteAction, WriterOptions } from './ingest/writer.js';
export { verifyStores } from './ingest/verify.js';
export type { Violation, ViolationKind, VerifyReport } from './ingest/verify.js';
export { getDocument, searchDocuments } from './ingest/read.js';
export { readDocuments } from './ingest/sources.js';
export { validateDocument } from './ingest/schema.js';
export { configFromEnv } from './config/profile.js';
export { openProfile } from './wiring.js';
export { openSagaLog } from './log/open.js';
export { withFaults } from './stores/faults.js';
export { StoreError } from './stores/errors.js';
export type * from './stores/types.js';
