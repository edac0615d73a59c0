// One place that ties a route's OpenAPI description to its handler. Handlers are plain hono
// handlers (not the zod-openapi validator): the body is read by body.ts under the size limit and
// every validation failure becomes a problem with a stable code; the same zod schemas validate
// the input here and describe it in the spec.
import type { OpenAPIHono, RouteConfig } from '@hono/zod-openapi';
import type { Context, Handler } from 'hono';
import type { z } from '@hono/zod-openapi';
import { HttpProblem, type HttpErrorCode } from './problem.js';
import { Problem } from './schemas.js';

export function route(app: OpenAPIHono, config: RouteConfig, handler: Handler): void {
  app.openAPIRegistry.registerPath(config);
  app.on(config.method.toUpperCase(), config.path.replace(/\{(\w+)\}/g, ':$1'), handler);
}

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Malformed request: invalid JSON, invalid UTF-8, or an invalid query parameter. Do not retry unchanged.',
  401: 'Missing or wrong bearer token.',
  404: 'Not found.',
  409: 'Conflict (see `code`).',
  413: 'The body is larger than the server accepts.',
  415: 'The body is not UTF-8 JSON.',
  422: 'The document breaks the schema or a limit (unknown field, wrong type, too long). `field` names it. Do not retry unchanged.',
  503: 'A store or the saga log is unavailable, or the server is draining; retry later (same Idempotency-Key).',
};

/** Problem responses for the given statuses (and 401, which every route may answer). */
export function problems(...statuses: number[]): Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }> {
  const out: Record<number, { description: string; content: { 'application/problem+json': { schema: typeof Problem } } }> = {};
  for (const s of [...new Set([401, ...statuses])]) {
    out[s] = { description: PROBLEM_TEXT[s] ?? 'Error', content: { 'application/problem+json': { schema: Problem } } };
  }
  return out;
}

export function json<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

/** Validates query parameters (first value of each) with a zod schema; 400 on failure. */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.output<T> {
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
