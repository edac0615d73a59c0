// The in-memory SagaLog against the shared conformance suite, on an injected clock. Both come from
// the engine package's own entry points, as a user of @apex-memory/saga would import them.
import { describe, it } from 'node:test';
import { MemorySagaLog } from '@apex-memory/saga/memory';
import { sagaLogConformance } from '@apex-memory/saga/testing';

let now = 1_700_000_000_000;
sagaLogConformance('memory', async () => new MemorySagaLog({ now: () => now }), {
  test: { describe, it },
  advance: (ms) => {
    now += ms;
  },
  shortLeaseMs: 1_000,
});
