// The HTTP API as a hono app: authentication, CORS (off unless origins are named), draining,
// problem+json for every error, the OpenAPI document generated from the zod schemas, the API
// reference page and the dashboard. listen.ts puts it on a socket.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { cors } from 'hono/cors';
import { etag } from 'hono/etag';
import type { ApiApp, ApiContext, ApiOptions } from './context.js';
import { DEFAULT_API_OPTIONS } from './context.js';
import { bearerAuth } from './auth.js';
import { hostGuard } from './host-guard.js';
import { allowedMethods } from './methods.js';
import { registerDocumentRoutes } from './documents.js';
import { registerErasureRoute } from './erasure.js';
import { registerHealthRoutes } from './health.js';
import { openApiDocument } from './openapi.js';
import { registerOverviewRoutes } from './overview.js';
import { problemResponse, toProblem } from './problem.js';
import { registerSagaRoutes } from './sagas.js';
import { registerStatic } from './static.js';
import { SagaTimings } from './timings.js';

export interface HttpApi {
  hono: OpenAPIHono;
  ctx: ApiContext;
}

/** Paths anyone may fetch: liveness, the spec and the static pages (they hold no data). */
const OPEN = (path: string): boolean =>
  path === '/healthz' ||
  path === '/openapi.json' ||
  path === '/docs' ||
  path.startsWith('/docs/') ||
  path === '/ui' ||
  path.startsWith('/ui/');

export function createHttpApi(app: ApiApp, options: Partial<ApiOptions> = {}, log: (line: string) => void = () => undefined): HttpApi {
  const opts: ApiOptions = { ...DEFAULT_API_OPTIONS, ...options };
  const timings = new SagaTimings();
  app.engine.addHooks(timings.hooks());
  const ctx: ApiContext = { app, opts, state: { draining: false, lastVerify: undefined, timings } };
  const hono = new OpenAPIHono();

  hono.onError((err, c) => {
    const p = toProblem(err);
    if (p.status >= 500 && p.code === 'INTERNAL')
      log(`http: ${c.req.method} ${c.req.path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return problemResponse(c, p.status, p.code, p.detail, p.extensions);
  });
  hono.notFound((c) => {
    const allow = allowedMethods(hono, c.req.path);
    if (allow.length === 0 || allow.includes(c.req.method))
      return problemResponse(c, 404, 'HTTP_NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
    c.header('Allow', allow.join(', '));
    return problemResponse(
      c,
      405,
      'HTTP_METHOD_NOT_ALLOWED',
      `${c.req.method} is not allowed on ${c.req.path} (allowed: ${allow.join(', ')})`,
      { allow },
    );
  });

  hono.use('*', hostGuard({ bindHost: opts.bindHost, allowedHosts: opts.allowedHosts, corsOrigins: opts.corsOrigins }));
  if (opts.corsOrigins.length > 0) {
    hono.use(
      '*',
      cors({
        origin: [...opts.corsOrigins],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'If-None-Match'],
        exposeHeaders: ['Location', 'ETag'],
      }),
    );
  }
  hono.use('*', async (c, next) => {
    if (ctx.state.draining && c.req.path !== '/healthz' && c.req.path !== '/readyz') {
      c.header('Connection', 'close');
      c.header('Retry-After', '1');
      return problemResponse(c, 503, 'HTTP_SHUTTING_DOWN', 'the server is shutting down; retry on another instance');
    }
    return next();
  });
  const auth = bearerAuth(opts.token, new Set());
  hono.use('*', async (c, next) => (OPEN(c.req.path) ? next() : auth(c, next)));
  // The dashboard polls these: an unchanged answer is a 304 with no body (If-None-Match).
  const tag = etag();
  for (const path of ['/v1/sagas', '/v1/sagas/*', '/v1/overview'])
    hono.use(path, async (c, next) => (c.req.method === 'GET' ? tag(c, next) : next()));

  registerHealthRoutes(hono, ctx);
  registerDocumentRoutes(hono, ctx);
  registerErasureRoute(hono, ctx);
  registerSagaRoutes(hono, ctx);
  registerOverviewRoutes(hono, ctx);
  hono.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'Required when the server listens off loopback.',
  });
  hono.openAPIRegistry.registerPath({
    method: 'get',
    path: '/openapi.json',
    tags: ['health'],
    summary: 'This document (OpenAPI 3.1); the reference page is /docs',
    security: [],
    responses: {
      200: { description: 'The OpenAPI document.', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } },
    },
  });
  const doc = openApiDocument(hono, opts);
  hono.get('/openapi.json', (c) => c.json(doc));
  registerStatic(hono);
  return { hono, ctx };
}
