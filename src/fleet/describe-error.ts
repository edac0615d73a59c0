// One line describing a failure for a worker's warnings: the stable code and the message, with
// anything that looks like credentials in a URL removed (driver messages may echo a URL).
import { redactCredentials } from '../config/redact.js';

export function describeFailure(err: unknown): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  const line = redactCredentials(message).replace(/\s+/g, ' ').trim().slice(0, 300);
  return typeof code === 'string' && code !== '' ? `${code}: ${line}` : line;
}

/** The one redaction helper, shared with the CLI's error formatter: see src/config/redact.ts. */
export { redactCredentials };
