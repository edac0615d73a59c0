// Errors as RFC 9457 problem details (`application/problem+json`). Every 4xx/5xx the API sends
// goes through here, so each carries a stable `code` a client can switch on; `detail` is for
// people. Domain errors (DocumentError, SagaError) keep their own codes; the status of each code
// comes from the one error registry (src/errors/registry.ts).
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { errorCode, errorMessage, errorRetryable, isApexError, markError } from '../lib/errors.js';
import { errorTraits, type HttpErrorCode } from '../errors/registry.js';

/** The API's own codes: listed, with every other code's status, in src/errors/registry.ts. */
export type { HttpErrorCode } from '../errors/registry.js';

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
    readonly code: HttpErrorCode | 'DOC_INVALID' | 'SAGA_NOT_FOUND' | 'SAGA_NOT_STUCK',
    detail: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
    markError(this);
  }
}

function isHttpProblem(err: unknown): err is HttpProblem {
  return isApexError(err) && err.name === 'HttpProblem' && typeof (err as { status?: unknown }).status === 'number';
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
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export const PROBLEM_TYPE_BASE = 'https://apex-memory.dev/problems/';

export function problemBody(
  status: number,
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
  instance?: string,
): ProblemBody {
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

export function problemResponse(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): Response {
  const body = problemBody(status, code, detail, extensions, c.req.path);
  return c.body(JSON.stringify(body), status, { 'content-type': 'application/problem+json' });
}

/**
 * Maps anything thrown by a handler to a problem. Registered, expected codes get their status from
 * the registry (5xx ones say whether a retry can help); anything else is a 500 whose detail names
 * no internals (the server logs the error itself).
 */
export function toProblem(err: unknown): {
  status: ContentfulStatusCode;
  code: string;
  detail: string;
  extensions: Record<string, unknown>;
} {
  if (isHttpProblem(err)) return { status: err.status, code: err.code, detail: err.message, extensions: err.extensions };
  const code = errorCode(err);
  const traits = errorTraits(code);
  if (code === undefined || traits === undefined || !traits.expected) {
    return { status: 500, code: 'INTERNAL', detail: 'internal error (see the server log)', extensions: {} };
  }
  const extensions: Record<string, unknown> = {};
  const field = (err as { field?: unknown }).field;
  if (typeof field === 'string') extensions.field = field;
  if (code === 'DOC_HELD') {
    const { docId, holder } = err as { docId?: unknown; holder?: unknown };
    Object.assign(extensions, { docId, sagaId: holder });
  }
  if (traits.http >= 500) extensions.retryable = errorRetryable(err) ?? traits.retryable;
  return { status: traits.http, code, detail: errorMessage(err), extensions };
}
