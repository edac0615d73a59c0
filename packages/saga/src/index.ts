// apex-memory/saga: the saga engine on its own. Knows nothing about documents or databases.
export { defineSaga, SagaBuilder, GroupBuilder } from './define.js';
export type { SagaDefinition, StepDefinition, StepContext, CompensationContext, StepKind, StepOutcomeKind, Stage, AnyStep, OnInterrupt, SagaOptions } from './define.js';
export { SagaEngine } from './engine.js';
export { storedOutcome } from './outcome.js';
export type { EngineOptions, ExecuteOptions } from './engine.js';
export type { SagaOutcome } from './outcome.js';
export { SagaError, toErrorInfo, isFenced } from './errors.js';
export type { SagaErrorCode } from './errors.js';
export type { SagaHooks, SagaEventBase, SagaEndStatus, ClaimVia } from './events.js';
export { processOwnerId, parseOwner, isDeadLocalOwner } from './owner.js';
export { systemClock, seededRandom } from './clock.js';
export type { Clock } from './clock.js';
export { DEFAULT_STEP_RETRY, DEFAULT_RETRIABLE_RETRY, DEFAULT_COMPENSATION_RETRY, isMarkedRetryable, backoffDelay } from './policy.js';
export type { RetryPolicy } from './policy.js';
export { replay, planResume, pivotStarted } from './replay.js';
export type { ReplayedSaga, ResumePlan, StepState } from './replay.js';
export { canTransition, isFinal, FINAL_STATUSES } from './log.js';
export type * from './log.js';
