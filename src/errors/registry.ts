// The one error registry: for every code the code base throws (or writes as a saga's reason), the
// HTTP status the API answers with, the CLI's exit code, whether it is expected (printed as one
// line, no stack: bad input, a store down, a refusal) and whether a retry can help. The HTTP API
// (src/http/problem.ts), the CLI (src/cli/errors.ts) and the fleet worker
// (src/fleet/describe-error.ts) read it; none of them sorts codes on its own any more.
//
// `ErrorCode` is the union of every layer's code union, and the table is a Record over it: a code
// added to any layer does not compile until it has an entry here. test/unit/error-registry.test.ts
// also greps the sources for code literals that bypass the unions.
import type { SagaErrorCode, SagaReasonCode } from '../saga/index.js';
import type { StoreErrorCode } from '../stores/errors.js';
import type { DocumentErrorCode, DocumentHeldError, EmbedderErrorCode } from '../ingest/errors.js';
import type { ConfigErrorCode } from '../config/numeric.js';
import type { DataDirLockedError } from '../config/data-dir-lock.js';
import type { ContentErasedError } from '../ingest/sagas/content.js';
import type { ReindexErrorCode } from '../ingest/reindex/state.js';

/** Codes of the HTTP API itself (the problem documents of src/http). */
export type HttpErrorCode =
  | 'HTTP_NOT_FOUND' // no such route (or method on it)
  | 'HTTP_UNAUTHORIZED' // missing or wrong bearer token
  | 'HTTP_BODY_TOO_LARGE'
  | 'HTTP_UNSUPPORTED_MEDIA_TYPE' // a JSON body was expected
  | 'HTTP_MALFORMED_JSON'
  | 'HTTP_INVALID_UTF8'
  | 'HTTP_INVALID_PARAMETER' // a query, path or header value is invalid
  | 'HTTP_INVALID_BODY' // a JSON body breaks its schema (operator endpoints)
  | 'HTTP_IDEMPOTENCY_CONFLICT' // the Idempotency-Key was used with a different body
  | 'HTTP_SHUTTING_DOWN' // the server is draining after SIGTERM
  | 'HTTP_UNSAFE_BIND' // refusing to listen beyond loopback without a token (at start)
  | 'HTTP_HOST_NOT_ALLOWED' // 421: the Host is not a name this server answers for (DNS rebinding)
  | 'HTTP_FOREIGN_ORIGIN' // 403: a state-changing request from another site's page
  | 'HTTP_METHOD_NOT_ALLOWED' // 405: the path exists, the method does not (Allow lists them)
  | 'HTTP_HEADERS_TOO_LARGE' // 431: request line + headers over Node's limit
  | 'HTTP_MALFORMED_REQUEST' // 400 from Node's parser: not valid HTTP/1.1
  | 'HTTP_REQUEST_TIMEOUT' // 408: the request did not arrive within requestTimeout
  | 'DOC_NOT_FOUND'
  | 'WRITE_CONFLICT' // another writer committed the document first
  | 'WRITE_COMPENSATED'; // a step failed and the write's saga rolled back

/** Codes of the CLI itself. */
export type CliErrorCode =
  | 'CLI_USAGE' // a flag or argument is invalid
  | 'CLI_CONFIG' // the environment or data directory is unusable
  | 'CLI_NOT_FOUND' // the document or saga named does not exist
  | 'SAGA_FAILED' // a tally line for a saga that ended without a reason code
  | 'SAGA_IN_DOUBT'; // a saga whose log failed past the outage budget: it may still commit (src/ingest/in-doubt.ts)

export type ErrorCode =
  | SagaErrorCode
  | SagaReasonCode
  | StoreErrorCode
  | DocumentErrorCode
  | DocumentHeldError['code']
  | ContentErasedError['code']
  | EmbedderErrorCode
  | ConfigErrorCode
  | DataDirLockedError['code']
  | HttpErrorCode
  | CliErrorCode
  | ReindexErrorCode
  | 'INTERNAL';

export type HttpStatus = 400 | 401 | 403 | 404 | 405 | 408 | 409 | 413 | 415 | 421 | 422 | 431 | 500 | 502 | 503;

export interface ErrorTraits {
  /** The status the HTTP API answers with. */
  http: HttpStatus;
  /** The CLI's exit code: 1 the operation ran and failed, 2 usage or configuration. */
  exit: 1 | 2;
  /** Expected: one line, no stack (bad input, a refusal, a server down). Unexpected: a bug. */
  expected: boolean;
  /** The default for the code; an error's own `retryable` flag wins when it has one. */
  retryable: boolean;
}

const fail = (http: HttpStatus, retryable = false): ErrorTraits => ({ http, exit: 1, expected: true, retryable });
const usage = (http: HttpStatus): ErrorTraits => ({ http, exit: 2, expected: true, retryable: false });
const bug: ErrorTraits = { http: 500, exit: 1, expected: false, retryable: false };

export const ERROR_REGISTRY: Readonly<Record<ErrorCode, ErrorTraits>> = {
  // The engine (src/saga/errors.ts).
  SAGA_DEFINITION_INVALID: bug, // a definition the builder rejects is a programming error
  SAGA_UNKNOWN_DEFINITION: usage(503), // the log holds a saga this build does not define
  SAGA_QUERY_INVALID: usage(400), // a bad filter or a foreign cursor on the operators' queries
  SAGA_NOT_FOUND: fail(404),
  SAGA_FENCED: fail(409), // another owner runs the saga now
  SAGA_INPUT_INVALID: fail(422),
  SAGA_CONFLICT: fail(409),
  SAGA_WAIT_TIMEOUT: fail(503, true),
  SAGA_NOT_STUCK: fail(409),
  SAGA_NOT_CANCELLABLE: fail(409),
  SAGA_INPUT_CONFLICT: fail(409),
  SAGA_CANCELLED: fail(409),
  SAGA_DEADLINE: fail(503, true),
  SAGA_LEASE_LOST: fail(503, true),
  STEP_TIMEOUT: fail(503, true),
  STEP_ABORTED: fail(503, true),
  STEP_FAILED: bug, // a step threw something without a code
  LOG_CLOSED: fail(503, true),
  LOG_FAILURE: fail(503, true),
  SAGA_INTERRUPTED: fail(503, true),
  RECOVERY_LIMIT: fail(503),
  // The stores (src/stores/errors.ts).
  STORE_TRANSIENT: fail(503, true),
  STORE_TIMEOUT: fail(503, true),
  STORE_PERMANENT: fail(503),
  STORE_FENCED: fail(409),
  STORE_CONFLICT: fail(409),
  STORE_BUSY: fail(503, true),
  STORE_INJECTED: fail(503),
  // Documents and the embedder (src/ingest/errors.ts).
  DOC_INVALID: fail(422),
  DOC_SOURCE: fail(422),
  DOC_HELD: fail(409), // a stuck saga holds the document: an operator must retry or cancel it
  CONTENT_ERASED: fail(409), // a saga's staged content is gone (a delete erased it): the saga rolls back
  EMBED_TRANSIENT: fail(503, true),
  EMBED_PERMANENT: fail(502), // the embedding service refused or answered nonsense
  EMBED_CONFIG: usage(503),
  // Configuration (src/config).
  CONFIG_INVALID: usage(503),
  // The reindex and the active index record (src/ingest/reindex, docs/reindex.md).
  INDEX_MISMATCH: usage(503), // this process's embedder settings contradict the active index: refuses to start
  INDEX_RECORD_INVALID: fail(503),
  REINDEX_CONFLICT: fail(409), // another reindex target is in progress (or the target is already active)
  REINDEX_PHASE: fail(409), // the operation does not apply in the record's phase
  REINDEX_INVALID: usage(400), // re-chunking parameters out of range (names the flag and the limit)
  REINDEX_UNSUPPORTED: usage(400), // e.g. --chunking (re-chunking is not built yet)
  REINDEX_VERIFY_FAILED: fail(409), // --switch refused: the new index is incomplete
  DATA_DIR_LOCKED: fail(503),
  // The HTTP API (src/http).
  HTTP_NOT_FOUND: fail(404),
  HTTP_UNAUTHORIZED: fail(401),
  HTTP_BODY_TOO_LARGE: fail(413),
  HTTP_UNSUPPORTED_MEDIA_TYPE: fail(415),
  HTTP_MALFORMED_JSON: fail(400),
  HTTP_INVALID_UTF8: fail(400),
  HTTP_INVALID_PARAMETER: fail(400),
  HTTP_INVALID_BODY: fail(422),
  HTTP_IDEMPOTENCY_CONFLICT: fail(409),
  HTTP_SHUTTING_DOWN: fail(503, true),
  HTTP_UNSAFE_BIND: usage(503),
  HTTP_HOST_NOT_ALLOWED: fail(421),
  HTTP_FOREIGN_ORIGIN: fail(403),
  HTTP_METHOD_NOT_ALLOWED: fail(405),
  HTTP_HEADERS_TOO_LARGE: fail(431),
  HTTP_MALFORMED_REQUEST: fail(400),
  HTTP_REQUEST_TIMEOUT: fail(408), // the client was too slow: sending again is the client's call
  DOC_NOT_FOUND: fail(404),
  WRITE_CONFLICT: fail(409),
  WRITE_COMPENSATED: fail(503, true),
  // The CLI (src/cli).
  CLI_USAGE: usage(400),
  CLI_CONFIG: usage(503),
  CLI_NOT_FOUND: fail(404),
  SAGA_FAILED: fail(503),
  SAGA_IN_DOUBT: fail(503, true),
  INTERNAL: bug,
};

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_REGISTRY, code);
}

/** The traits of a code; undefined for a code nobody registered (a driver's, Node's). */
export function errorTraits(code: string | undefined): ErrorTraits | undefined {
  return code !== undefined && isErrorCode(code) ? ERROR_REGISTRY[code] : undefined;
}
