// @apex-memory/saga: the saga engine on its own. Knows nothing about documents or databases.
// The public surface only: what README.md and docs/saga-semantics.md document, and what a log
// backend needs (the SagaLog contract in log.ts). Internals (replay planning, owner parsing,
// backoff, the default policies) are imported from their modules inside the package.
export { defineSaga, defineStep, resultReader, SagaBuilder, GroupBuilder } from './define.js';
export type {
  SagaDefinition,
  StepDefinition,
  StepContext,
  ResultReader,
  CompensationContext,
  StepKind,
  StepOutcomeKind,
  Stage,
  AnyStep,
  OnInterrupt,
  SagaOptions,
} from './define.js';
export { SagaEngine } from './engine.js';
export type { EngineOptions, ExecuteOptions } from './engine.js';
export type { SagaHandle } from './handle.js';
export type { SagaOutcome } from './outcome.js';
export { SagaError, isFenced, isSagaError } from './errors.js';
export type { SagaErrorCode, SagaReasonCode } from './errors.js';
export type { SagaHooks, SagaEventBase, SagaEndStatus, ClaimVia } from './events.js';
export { processOwnerId, nodeRuntime } from './owner.js';
export type { EngineRuntime } from './owner.js';
export { systemClock, seededRandom } from './clock.js';
export type { Clock } from './clock.js';
export type { RetryPolicy } from './policy.js';
export { operatorActions } from './actions.js';
export type { OperatorActions } from './actions.js';
export { isFinal, FINAL_STATUSES, DEFAULT_PAGE, MAX_PAGE } from './log.js';
/** The ids execute() makes (UUIDv7), for a caller that must know a saga's id before it starts. */
export { newSagaId } from './ids.js';
export type * from './log.js';
