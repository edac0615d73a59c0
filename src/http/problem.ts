// Errors as RFC 9457 problem details (`application/problem+json`). Every 4xx/5xx the API sends
// goes through here, so each carries a stable `code` a client can switch on; `detail` is for
// people. Domain errors (DocumentError, SagaError) keep their own codes.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export type HttpErrorCode =
  | 'HTTP_NOT_FOUND' // no such route (or method on it)
  | 'HTTP_UNAUTHORIZED' // missing or wrong bearer token
  | 'HTTP_BODY_TOO_LARGE'
  | 'HTTP_UNSUPPORTED_MEDIA_TYPE' // a JSON body was expected
  | 'HTTP_MALFORMED_JSON'
  | 'HTTP_INVALID_UTF8'
  | 'HTTP_INVALID_PARAMETER' // a query, path or header value is invalid
  | 'HTTP_IDEMPOTENCY_CONFLICT' // the Idempotency-Key was used with a different body
  | 'HTTP_SHUTTING_DOWN' // the server is draining after SIGTERM
  | 'HTTP_HOST_NOT_ALLOWED' // 421: the Host is not a name this server answers for (DNS rebinding)
  | 'HTTP_FOREIGN_ORIGIN' // 403: a state-changing request from another site's page
  | 'HTTP_METHOD_NOT_ALLOWED' // 405: the path exists, the method does not (Allow lists them)
  | 'HTTP_HEADERS_TOO_LARGE' // 431: request line + headers over Node's limit
  | 'HTTP_MALFORMED_REQUEST' // 400 from Node's parser: not valid HTTP/1.1
  | 'HTTP_REQUEST_TIMEOUT' // 408: the request did not arrive within requestTimeout
  | 'DOC_NOT_FOUND'
  | 'SAGA_NOT_FOUND'
  | 'SAGA_NOT_STUCK'
  | 'SAGA_NOT_CANCELLABLE'
  | 'INTERNAL';

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  /** Extension members: the offending field, the saga id, ... */
  [extension: string]: unknown;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  431: 'Request Header Fields Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const PROBLEM_TYPE_BASE = 'https://apex-memory.dev/problems/';

export function problemBody(status: number, code: string, detail: string, extensions: Record<string, unknown> = {}, instance?: string): ProblemBody {
  const body: ProblemBody = {
    ...extensions,
    type: `${PROBLEM_TYPE_BASE}${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
  };
  if (instance !== undefined) body.instance = instance;
  return body;
}

export function problemResponse(c: Context, status: ContentfulStatusCode, code: string, detail: string, extensions: Record<string, unknown> = {}): Response {
  const body = problemBody(status, code, detail, extensions, c.req.path);
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

/**
 * Maps anything thrown by a handler to a problem. Known codes get their status; anything else is
 * a 500 whose detail names no internals (the server logs the error itself).
 */
export function toProblem(err: unknown): { status: ContentfulStatusCode; code: string; detail: string; extensions: Record<string, unknown> } {
  if (err instanceof HttpProblem) return { status: err.status, code: err.code, detail: err.message, extensions: err.extensions };
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'DOC_INVALID') {
    const field = (err as { field?: unknown }).field;
    return { status: 422, code, detail: message, extensions: typeof field === 'string' ? { field } : {} };
  }
  if (code === 'SAGA_NOT_FOUND') return { status: 404, code, detail: message, extensions: {} };
  if (code === 'SAGA_NOT_STUCK' || code === 'SAGA_NOT_CANCELLABLE' || code === 'SAGA_CONFLICT' || code === 'SAGA_INPUT_CONFLICT' || code === 'STORE_CONFLICT') {
    return { status: 409, code, detail: message, extensions: {} };
  }
  if (code === 'LOG_CLOSED' || code === 'SAGA_WAIT_TIMEOUT') return { status: 503, code, detail: message, extensions: {} };
  if (typeof code === 'string' && /^(STORE|LOG)_[A-Z_]+$/.test(code)) return { status: 503, code, detail: message, extensions: { retryable: true } };
  return { status: 500, code: 'INTERNAL', detail: 'internal error (see the server log)', extensions: {} };
}
