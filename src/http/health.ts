// Liveness, readiness (each store and the saga log, with latency) and Prometheus metrics.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiContext } from './context.js';
import { json, route } from './route.js';
import { Health, Ready } from './schemas.js';
import { z } from '@hono/zod-openapi';
import { errorCode } from '../lib/errors.js';

const CHECK_TIMEOUT_MS = 2_000;

async function timed(name: string, check: () => Promise<{ ok: boolean; detail: string }>) {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const r = await Promise.race([
      check(),
      new Promise<{ ok: boolean; detail: string }>(
        (resolve) => (timer = setTimeout(() => resolve({ ok: false, detail: `no answer in ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS)),
      ),
    ]);
    return { name, ok: r.ok, latencyMs: Math.round((performance.now() - t0) * 100) / 100, detail: r.detail };
  } catch (err) {
    return {
      name,
      ok: false,
      latencyMs: Math.round((performance.now() - t0) * 100) / 100,
      detail: `[${errorCode(err) ?? 'ERROR'}] unreachable`,
    };
  } finally {
    clearTimeout(timer);
  }
}

export function registerHealthRoutes(api: OpenAPIHono, ctx: ApiContext): void {
  route(
    api,
    {
      method: 'get',
      path: '/healthz',
      tags: ['health'],
      summary: 'Liveness: the process answers',
      security: [],
      responses: { 200: json(Health, 'Alive.') },
    },
    (c) => c.json({ status: 'ok' as const }, 200),
  );

  route(
    api,
    {
      method: 'get',
      path: '/readyz',
      tags: ['health'],
      summary: 'Readiness: each store and the saga log answer (with latency); not ready while draining',
      responses: { 200: json(Ready, 'Ready.'), 503: json(Ready, 'A store or the log is down, or the server is draining.') },
    },
    async (c) => {
      const { stores, engine } = ctx.app;
      const checks = await Promise.all([
        ...[stores.postgres, stores.neo4j, stores.qdrant, stores.redis].map((s) => timed(s.name, () => s.health())),
        timed('saga_log', async () => {
          await engine.log.list({}, { limit: 1 });
          return { ok: true, detail: engine.log.kind };
        }),
      ]);
      const ready = !ctx.state.draining && checks.every((x) => x.ok);
      // A drill does not make the server unready (that is what is being rehearsed); it is named.
      const faultDrill = ctx.opts.faultDrill ? { stores: [...ctx.opts.faultDrill.stores] } : null;
      return c.json({ ready, draining: ctx.state.draining, faultDrill, checks }, ready ? 200 : 503);
    },
  );

  route(
    api,
    {
      method: 'get',
      path: '/metrics',
      tags: ['health'],
      summary: 'Prometheus metrics (text exposition format)',
      responses: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: z.string() } } } },
    },
    async (c) => {
      const m = ctx.opts.metrics;
      if (!m) return c.body('# no metrics registry configured\n', 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      return c.body(await m.metrics(), 200, { 'content-type': m.contentType });
    },
  );
}
