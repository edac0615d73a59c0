// One place that ties a route's OpenAPI description to its handler. Handlers are plain hono
// handlers (not the zod-openapi validator): the body is read by body.ts under the size limit and
// every validation failure becomes a problem with a stable code; the same zod schemas validate
// the input here and describe it in the spec.
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Context, Handler } from 'hono';
import { z } from '@hono/zod-openapi';
import { HttpProblem, type HttpErrorCode } from './problem.js';
import { Problem } from './schemas.js';

/**
 * Registers the route and its description. Answers every route may give are added here so the
 * spec cannot forget them: 421 (Host guard) and 431 (oversized headers) everywhere, 401 unless the
 * route is open (`security: []`), 400 where there are path or query parameters, 403 (foreign
 * Origin) on state-changing methods.
 */
export function route(app: OpenAPIHono, config: RouteConfig, handler: Handler): void {
  const extra = [421, 431];
  if (config.security === undefined || config.security.length > 0) extra.push(401);
  if (config.request?.params !== undefined || config.request?.query !== undefined) extra.push(400);
  if (config.method !== 'get' && config.method !== 'head' && config.method !== 'options') extra.push(403);
  const added = problemsOnly(extra.filter((s) => config.responses[s] === undefined && config.responses[String(s)] === undefined));
  app.openAPIRegistry.registerPath({ ...config, responses: { ...config.responses, ...added } });
  app.on(config.method.toUpperCase(), config.path.replace(/\{(\w+)\}/g, ':$1'), handler);
}

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Malformed request: invalid JSON, invalid UTF-8, an invalid or repeated query parameter, or a control character (NUL) in a path id. `field` names it. Do not retry unchanged.',
  401: 'Missing or wrong bearer token (only when the server has a token).',
  403: 'A state-changing request from a foreign `Origin` (not this server, not allowed by CORS): `HTTP_FOREIGN_ORIGIN`.',
  405: 'The path exists but not with this method; `Allow` lists the methods.',
  421: 'The `Host` header names a host this server does not answer for (DNS-rebinding protection): `HTTP_HOST_NOT_ALLOWED`.',
  431: 'The request line and headers are larger than the server accepts (Node default 16 KiB): `HTTP_HEADERS_TOO_LARGE`.',
  404: 'Not found.',
  409: 'Conflict (see `code`).',
  413: 'The body is larger than the server accepts.',
  415: 'The body is not UTF-8 JSON.',
  422: 'The document breaks the schema or a limit (unknown field, wrong type, too long). `field` names it. Do not retry unchanged.',
  503: 'A store or the saga log is unavailable, or the server is draining; retry later (same Idempotency-Key).',
};

type ProblemResponses = Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }>;

/** Problem responses for the given statuses (route() adds 400/401/403/421/431 where they apply). */
export function problems(...statuses: number[]): ProblemResponses {
  return problemsOnly(statuses);
}

function problemsOnly(statuses: readonly number[]): ProblemResponses {
  const out: ProblemResponses = {};
  for (const s of [...new Set(statuses)]) {
    out[s] = { description: PROBLEM_TEXT[s] ?? 'Error', content: { 'application/problem+json': { schema: Problem } } };
  }
  return out;
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** 200 with an ETag, and 304 for a matching If-None-Match (the dashboard polls these routes). */
export function polled<T extends z.ZodType>(schema: T, description: string) {
  return {
    200: {
      ...json(schema, description),
      headers: z.object({
        ETag: z.string().openapi({ description: 'Send it back as If-None-Match: an unchanged answer is a 304 with no body.' }),
      }),
    },
    304: { description: 'Not modified: If-None-Match matched the current ETag.' },
  };
}

/**
 * Validates query parameters with a zod schema; 400 on failure. A parameter given twice
 * (`status=a&status=b`) is refused with 400 naming it: using only the first would silently
 * drop the operator's second value.
 */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) {
      throw new HttpProblem(
        400,
        'HTTP_INVALID_PARAMETER',
        `${name}: given ${values.length} times; give each query parameter at most once`,
        { field: name },
      );
    }
  }
  return parseWith(schema, c.req.query(), 'HTTP_INVALID_PARAMETER', 400);
}

export function parseWith<T extends z.ZodType>(schema: T, value: unknown, code: HttpErrorCode, status: 400 | 422): z.output<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : (issue?.path.map(String).join('.') ?? '');
  const what = issue?.code === 'unrecognized_keys' ? 'unknown parameter' : (issue?.message ?? 'invalid');
  throw new HttpProblem(status, code, `${where || 'request'}: ${what}`, { field: where || null });
}
