// Typed errors with stable string codes. Callers switch on `code`, never on message text.
import type { ErrorInfo } from './log.js';

export type SagaErrorCode =
  | 'SAGA_DEFINITION_INVALID' // the builder rejected a definition
  | 'SAGA_UNKNOWN_DEFINITION' // a stored saga names a definition this engine does not have
  | 'SAGA_NOT_FOUND'
  | 'SAGA_FENCED' // another owner holds the saga now; this owner must stop
  | 'SAGA_INPUT_INVALID' // input or output is not JSON-serializable
  | 'SAGA_CONFLICT' // an id was reused for a different saga name
  | 'SAGA_WAIT_TIMEOUT' // waited for another owner's saga past the deadline
  | 'SAGA_NOT_STUCK' // operator retry on a saga that is not stuck
  | 'SAGA_NOT_CANCELLABLE' // cancel after the pivot started, or of a completed saga
  | 'SAGA_INPUT_CONFLICT' // an existing saga id started again with a different input
  | 'SAGA_CANCELLED' // reason of a saga compensated by cancel()
  | 'SAGA_DEADLINE' // reason of a saga compensated because its deadline passed before the pivot
  | 'SAGA_LEASE_LOST' // the heartbeat could not renew before the lease ran out: this owner stopped
  | 'STEP_TIMEOUT'
  | 'STEP_ABORTED' // a sibling in a parallel group failed, or the engine is shutting down
  | 'STEP_FAILED' // a step threw something that is not a SagaError
  | 'LOG_CLOSED'
  | 'LOG_FAILURE';

/** Codes the engine writes as a saga's reason in the log, never throws. */
export type SagaReasonCode =
  | 'SAGA_INTERRUPTED' // the owner stopped mid-step; a later recovery ran the saga on
  | 'RECOVERY_LIMIT'; // a step was interrupted too often: the saga ends stuck for an operator

/**
 * The brand src/lib/errors.ts reads: registered with `Symbol.for`, so an engine from another copy
 * of the package is recognised too (`instanceof` is not). Declared here again because the engine
 * imports nothing outside src/saga.
 */
const APEX_ERROR = Symbol.for('apex-memory.error');

export class SagaError extends Error {
  readonly code: SagaErrorCode;
  readonly retryable: boolean;
  constructor(code: SagaErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SagaError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
    Object.defineProperty(this, APEX_ERROR, { value: true, enumerable: false });
  }
}

/** The string `code` of anything thrown, or undefined (the engine's copy of lib's errorCode). */
export function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** A SagaError from any copy of the engine with this code (brand + code, never `instanceof`). */
export function isSagaError(err: unknown, code?: SagaErrorCode): err is SagaError {
  if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[APEX_ERROR] !== true) return false;
  if ((err as { name?: unknown }).name !== 'SagaError') return false;
  return code === undefined || codeOf(err) === code;
}

/** Anything thrown that carries a string `code` keeps it; everything else becomes STEP_FAILED. */
export function toErrorInfo(err: unknown, retryable?: boolean): ErrorInfo {
  if (err instanceof Error) {
    const code = codeOf(err);
    const flag = retryable ?? (err as { retryable?: unknown }).retryable;
    const info: ErrorInfo = { code: code ?? 'STEP_FAILED', message: err.message };
    if (typeof flag === 'boolean') info.retryable = flag;
    return info;
  }
  return { code: 'STEP_FAILED', message: String(err) };
}

/** This owner was fenced out: works across package copies (see isSagaError). */
export function isFenced(err: unknown): boolean {
  return isSagaError(err, 'SAGA_FENCED');
}
