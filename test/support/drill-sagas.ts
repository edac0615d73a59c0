// Small saga definitions registered beside the memory sagas, for the operator views' tests: one
// that gets stuck after its pivot (a post-pivot step keeps failing, 25 identical errors), and one
// that waits on a durable retry timer. Real engine, real saga log; only the step bodies are fakes.
import { defineSaga, type SagaDefinition, type SagaEngine } from '../../src/saga/index.js';
import { StoreError } from '../../src/stores/errors.js';

export interface Switch {
  failing: boolean;
}

/** reserve -> commit (pivot) -> notify (retriable: 25 attempts, no backoff, fails while `sw.failing`). */
export function afterPivotSaga(sw: Switch, attempts = 25): SagaDefinition {
  return defineSaga<{ docId: string }>('drill_after_pivot', 1)
    .step({ name: 'reserve', run: async () => null, compensate: async () => undefined })
    .step({ name: 'commit', kind: 'pivot', run: async () => null })
    .step({
      name: 'notify',
      kind: 'retriable',
      retry: { maxAttempts: attempts, initialDelayMs: 0, maxDelayMs: 0 },
      run: async () => {
        if (sw.failing) throw new StoreError('redis', 'STORE_TRANSIENT', 'connection refused (drill)', { retryable: true });
        return null;
      },
    })
    .build() as unknown as SagaDefinition;
}

/** One step that fails once (retryable), then waits on a durable timer far in the future. */
export function durableWaitSaga(): SagaDefinition {
  return defineSaga<{ docId: string }>('drill_waiting', 1)
    .step({
      name: 'postgres_commit',
      retry: { maxAttempts: 3, initialDelayMs: 1e9, maxDelayMs: 1e9 },
      run: async () => {
        throw new StoreError('postgres', 'STORE_TRANSIENT', 'connection refused (drill)', { retryable: true });
      },
    })
    .build() as unknown as SagaDefinition;
}

export function register(engine: SagaEngine, ...defs: SagaDefinition[]): void {
  engine.register(...(defs as unknown as Parameters<SagaEngine['register']>));
}
