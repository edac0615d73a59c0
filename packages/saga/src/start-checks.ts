// Checks made when a saga id that already exists is started again: same definition name, and
// the same input (compared as a SHA-256 of its JSON), else a typed conflict naming both.
import { createHash } from 'node:crypto';
import { SagaError } from './errors.js';

export function conflict(sagaId: string, existing: string, wanted: string): SagaError {
  return new SagaError('SAGA_CONFLICT', `saga id ${sagaId} belongs to saga "${existing}", not "${wanted}"`);
}

function inputHash(input: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(input) ?? 'undefined')
    .digest('hex')
    .slice(0, 16);
}

/** Starting an existing id with another input is a caller bug: name both inputs' hashes. */
export function checkInput(sagaId: string, existing: unknown, wanted: unknown): void {
  const a = inputHash(existing);
  const b = inputHash(wanted);
  if (a !== b) {
    throw new SagaError('SAGA_INPUT_CONFLICT', `saga id ${sagaId} exists with input sha256:${a}, not the given input sha256:${b}`);
  }
}
