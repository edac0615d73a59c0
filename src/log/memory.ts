// apex-memory/log/memory: the in-memory SagaLogBackend, which ships with the engine package
// (@apex-memory/saga/memory) so the engine can be used and tested with no database at all.
export * from '@apex-memory/saga/memory';
