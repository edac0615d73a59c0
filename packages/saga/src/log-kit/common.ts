// Helpers every SagaLog backend shares: the typed errors and the order-independent checks, so the
// three backends reject exactly the same requests with exactly the same codes.
import { SagaError } from '../errors.js';
import type { AppendRequest, CommitEvent, ErrorInfo, LogRecord, SagaMeta, SagaStatus } from '../log.js';

export function closedError(kind: string): SagaError {
  return new SagaError('LOG_CLOSED', `the ${kind} saga log is closed`);
}

export function fencedError(sagaId: string, token: number, current: number): SagaError {
  return new SagaError('SAGA_FENCED', `saga ${sagaId}: fencing token ${token} is stale (current ${current}); another owner holds it`);
}

export function notFoundError(sagaId: string): SagaError {
  return new SagaError('SAGA_NOT_FOUND', `saga ${sagaId} is not in the log`);
}

export function seqError(sagaId: string, firstSeq: number, nextSeq: number): SagaError {
  return new SagaError('LOG_FAILURE', `saga ${sagaId}: append starts at seq ${firstSeq} but the next seq is ${nextSeq}`);
}

export function failure(message: string, cause: unknown): SagaError {
  return new SagaError('LOG_FAILURE', message, { cause, retryable: true });
}

/** The status the saga has after these records, or null when they carry none. */
export function lastStatus(records: readonly LogRecord[]): SagaStatus | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const rec = records[i];
    if (rec?.type === 'status') return rec.status;
  }
  return null;
}

/** The reason the last status record carries, or null (the saga keeps its previous reason). */
export function lastReason(records: readonly LogRecord[]): ErrorInfo | null {
  let reason: ErrorInfo | null = null;
  for (const rec of records) if (rec.type === 'status' && rec.reason !== undefined) reason = rec.reason;
  return reason;
}

/** JSON text of a value, or a typed error when it cannot be stored (BigInt, cycles, undefined). */
export function toJsonText(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new SagaError('SAGA_INPUT_INVALID', `${what} is not JSON-serializable`, { cause: err });
  }
  if (text === undefined) throw new SagaError('SAGA_INPUT_INVALID', `${what} is not JSON-serializable`);
  return text;
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

/** `name@version` keys of a claim's definitions, or null (no restriction). */
export function definitionKeys(defs: ReadonlyArray<{ name: string; version: number }> | undefined): string[] | null {
  return defs === undefined ? null : defs.map((d) => `${d.name}@${d.version}`);
}

/** Calls a commit listener without letting it break the log. */
export function reportCommit(listener: ((e: CommitEvent) => void) | undefined, records: number, sagas: number, t0: number): void {
  if (!listener) return;
  try {
    listener({ records, sagas, durationMs: performance.now() - t0 });
  } catch {
    // an observer's failure is not the log's
  }
}

/** JSON text of a saga's meta, or null. */
export function metaText(meta: SagaMeta | undefined): string | null {
  if (meta === undefined) return null;
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v !== 'string') throw new SagaError('SAGA_INPUT_INVALID', `meta.${k} must be a string`);
  }
  return JSON.stringify(meta);
}
