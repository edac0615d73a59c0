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

export class SagaError extends Error {
  readonly code: SagaErrorCode;
  readonly retryable: boolean;
  constructor(code: SagaErrorCode, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SagaError';
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

/** Anything thrown that carries a string `code` keeps it; everything else becomes STEP_FAILED. */
export function toErrorInfo(err: unknown, retryable?: boolean): ErrorInfo {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const flag = retryable ?? (err as { retryable?: unknown }).retryable;
    const info: ErrorInfo = { code: typeof code === 'string' ? code : 'STEP_FAILED', message: err.message };
    if (typeof flag === 'boolean') info.retryable = flag;
    return info;
  }
  return { code: 'STEP_FAILED', message: String(err) };
}

export function isFenced(err: unknown): boolean {
  return err instanceof SagaError && err.code === 'SAGA_FENCED';
}
