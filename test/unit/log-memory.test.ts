// The in-memory SagaLog against the shared conformance suite, on an injected clock.
import { MemorySagaLog } from '../../src/log/memory.js';
import { sagaLogConformance } from '../support/saga-log-conformance.js';

let now = 1_700_000_000_000;
sagaLogConformance('memory', async () => new MemorySagaLog({ now: () => now }), {
  advance: (ms) => {
    now += ms;
  },
  shortLeaseMs: 1_000,
});
