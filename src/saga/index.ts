// apex-memory/saga: the saga engine, which lives in its own package (packages/saga,
// @apex-memory/saga, zero runtime dependencies). The rest of src/ imports the engine through this
// file, so one import path names it everywhere and the import-boundary tests can see who uses it.
export * from '@apex-memory/saga';
