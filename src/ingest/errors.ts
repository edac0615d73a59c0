// Typed errors of the ingest input layer. Callers switch on `code`, never on message text.
// Messages name the field, the limit and where the input came from, and never contain secrets.
import { isApexError, markError } from '../lib/errors.js';
import { redactCredentials } from '../lib/redact.js';

export type DocumentErrorCode =
  | 'DOC_INVALID' // the document breaks the schema or a limit; fix the input
  | 'DOC_SOURCE'; // the input could not be read (missing path, permission, unsupported file type)

export interface DocumentErrorDetails {
  /** The offending field: "id", "title", "text", "metadata", "metadata.a.b", "line", "path". */
  field: string;
  /** The limit that was exceeded, e.g. "at most 512 characters"; absent for non-limit problems. */
  limit?: string;
  /** What is wrong when no limit applies, e.g. "invalid UTF-8", "duplicate id". */
  reason?: string;
  /** The measured value that broke the limit (characters, bytes, depth, ...). */
  got?: number;
  /** Where the input came from: "docs.jsonl:17", "notes/a.md", "stdin:3". */
  source?: string;
}

export class DocumentError extends Error {
  readonly code: DocumentErrorCode;
  readonly retryable = false;
  readonly field: string;
  readonly limit: string | undefined;
  readonly reason: string | undefined;
  readonly got: number | undefined;
  readonly source: string | undefined;

  constructor(details: DocumentErrorDetails, options?: { code?: DocumentErrorCode; cause?: unknown }) {
    const measured = details.got === undefined ? '' : ` (got ${details.got})`;
    const what = details.limit === undefined ? (details.reason ?? 'invalid') : `${details.limit}${measured}`;
    const where = details.source === undefined ? '' : ` at ${details.source}`;
    super(`${details.field}: ${what}${where}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DocumentError';
    this.code = options?.code ?? 'DOC_INVALID';
    this.field = details.field;
    this.limit = details.limit;
    this.reason = details.reason;
    this.got = details.got;
    this.source = details.source;
    markError(this);
  }

  /** The same error attributed to `source` (validation runs before the caller knows the line). */
  withSource(source: string): DocumentError {
    const details: DocumentErrorDetails = { field: this.field, source };
    if (this.limit !== undefined) details.limit = this.limit;
    if (this.reason !== undefined) details.reason = this.reason;
    if (this.got !== undefined) details.got = this.got;
    return new DocumentError(details, { code: this.code, cause: this.cause });
  }
}

export function isDocumentError(err: unknown): err is DocumentError {
  return isApexError(err) && err.name === 'DocumentError';
}

export type EmbedderErrorCode =
  | 'EMBED_TRANSIENT' // 429, 5xx, timeout, connection failure: a retry may succeed
  | 'EMBED_PERMANENT' // other 4xx, malformed response, wrong dimension: retrying will not help
  | 'EMBED_CONFIG'; // the embedder configuration is invalid

export class EmbedderError extends Error {
  readonly code: EmbedderErrorCode;
  readonly retryable: boolean;
  /** HTTP status when the server answered. */
  readonly status: number | undefined;
  /** From a Retry-After header, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(code: EmbedderErrorCode, message: string, options?: { cause?: unknown; status?: number; retryAfterMs?: number }) {
    // Redacted at the source: the message becomes a saga's failure reason in the durable log.
    super(redactCredentials(message), options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EmbedderError';
    this.code = code;
    this.retryable = code === 'EMBED_TRANSIENT';
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
    markError(this);
  }
}

/**
 * A write cannot start because another saga holds the document and cannot be finished from here:
 * it is stuck (an operator must retry or cancel it) or this saga log does not know it.
 */
export class DocumentHeldError extends Error {
  readonly code = 'DOC_HELD';
  readonly retryable = false;
  readonly docId: string;
  readonly holder: string;
  constructor(docId: string, holder: string, why: string) {
    super(`document ${JSON.stringify(docId)} is held by saga ${holder}, which ${why}`);
    this.name = 'DocumentHeldError';
    this.docId = docId;
    this.holder = holder;
    markError(this);
  }
}
