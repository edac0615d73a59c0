// The simulation's model relational store (test/support/sim-stores.ts) against the conformance
// cases of a refusal that keeps its fence raised (test/support/conformance/busy-fence.ts), through
// its per-document calls and its batched forms (test/support/sim-batch.ts), which the coalesced
// worlds of test/unit/sim-deterministic.test.ts run. The model must refuse the lost owner exactly
// where PostgreSQL and PGlite do, or the simulation would explore a store that does not exist.
import { describe } from 'node:test';
import { relationalBusyFenceCases } from '../support/conformance/busy-fence.js';
import { withBatchForms } from '../support/sim-batch.js';
import { simStores } from '../support/sim-stores.js';

void describe('model relational store (per-document and batched calls): a refusal keeps the fence raised', () => {
  const model = withBatchForms(simStores(() => 0, 4)).postgres;
  relationalBusyFenceCases(
    () => model,
    (name) => `model-${name}`,
  );
});
