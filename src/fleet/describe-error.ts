// One line describing a failure for a worker's warnings: the stable code, whether the registry
// (src/errors/registry.ts) expects it (a store or the log down: the worker waits it out) or not (a
// bug: the line says so, so an operator does not wait for it to pass), and the message with
// anything that looks like credentials in a URL removed (driver messages may echo a URL).
import { redactCredentials } from '../lib/redact.js';
import { errorCode, errorMessage } from '../lib/errors.js';
import { errorTraits } from '../errors/registry.js';

export function describeFailure(err: unknown): string {
  const code = errorCode(err);
  const line = redactCredentials(errorMessage(err)).replace(/\s+/g, ' ').trim().slice(0, 300);
  if (code === undefined || code === '') return line;
  const traits = errorTraits(code);
  return traits !== undefined && !traits.expected ? `${code} (unexpected: a bug): ${line}` : `${code}: ${line}`;
}
