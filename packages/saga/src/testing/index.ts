// @apex-memory/saga/testing: the behavioural suite every SagaLogBackend must pass. A new backend
// runs it with its own factory and its test runner's describe/it:
//   import { describe, it } from 'node:test';
//   sagaLogConformance('my-log', async () => new MyLog(), { test: { describe, it }, shortLeaseMs: 1_000 });
export { sagaLogConformance, beginReq, rejectsWith } from './conformance.js';
export type { SagaLogConformanceOptions, TestRegistrar } from './conformance.js';
