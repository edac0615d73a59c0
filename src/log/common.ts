// Helpers every SagaLog backend shares: the typed errors and the order-independent checks, so the
// three backends reject exactly the same requests with exactly the same codes.
import { SagaError } from '../saga/errors.js';
import type { AppendRequest, ErrorInfo, LogRecord, SagaStatus } from '../saga/log.js';

export function closedError(kind: string): SagaError {
  return new SagaError('LOG_CLOSED', `the ${kind} saga log is closed`);
}

export function fencedError(sagaId: string, token: number, current: number): SagaError {
  return new SagaError(
    'SAGA_FENCED',
    `saga ${sagaId}: fencing token ${token} is stale (current ${current}); another owner holds it`,
  );
}

export function notFoundError(sagaId: string): SagaError {
  return new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} is not in the log`);
}

export function seqError(sagaId: string, firstSeq: number, nextSeq: number): SagaError {
  return new SagaError(
    'LOG_FAILURE',
    `saga ${sagaId}: append starts at seq ${firstSeq} but the next seq is ${nextSeq}`,
  );
}

export function failure(message: string, cause: unknown): SagaError {
  return new SagaError('LOG_FAILURE', message, { cause, retryable: true });
}

/** The status (and reason) the saga has after this append, or undefined when it carries none. */
export function lastStatus(records: readonly LogRecord[]): { status: SagaStatus; reason: ErrorInfo | undefined } | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const rec = records[i];
    if (rec?.type === 'status') return { status: rec.status, reason: rec.reason };
  }
  return undefined;
}

/** Status records carry the reason of a move to stuck/compensating; others keep the last one. */
export function nextReason(current: ErrorInfo | null, records: readonly LogRecord[]): ErrorInfo | null {
  let reason = current;
  for (const rec of records) if (rec.type === 'status' && rec.reason !== undefined) reason = rec.reason;
  return reason;
}

export function checkAppendShape(req: AppendRequest): void {
  if (!Number.isInteger(req.firstSeq) || req.firstSeq < 0) {
    throw new SagaError('LOG_FAILURE', `saga ${req.sagaId}: firstSeq must be a non-negative integer`);
  }
}

/** Statuses `claim` may take over when the lease has expired. */
export const RECLAIMABLE: ReadonlySet<SagaStatus> = new Set(['running', 'compensating']);
