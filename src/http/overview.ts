// GET /v1/overview and POST /v1/verify: the dashboard's numbers. Rates and latency come from the
// saga log (so they cover every worker of a fleet), over its newest page (`scanLimit` sagas, at
// most MAX_PAGE); latency is running time (first record -> end), not queue time. Counts of
// in-flight, pending and stuck sagas are the log's own counts, capped at COUNT_CAP. The
// consistency window comes from this server's own hook stamps; drift from the last verify it ran.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { verifyStores } from '../ingest/verify.js';
import { MAX_PAGE, type SagaEntry } from '../saga/index.js';
import { readViewOf, type ApiContext } from './context.js';
import { json, polled, problems, route } from './route.js';
import { Overview, VerifyResult } from './schemas.js';

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] ?? null;
}

const MINUTE = 60_000;

/** Counts stop here: an exact count of a 1M backlog would read every entry of its index. */
export const COUNT_CAP = 100_000;

/** Running time of an ended saga: from its first record (not its creation: queue time is not latency). */
const runningMs = (s: SagaEntry): number => (s.endedAt ?? s.updatedAt) - (s.startedAt ?? s.createdAt);

export function overviewOf(list: readonly SagaEntry[], now = Date.now()) {
  const ended = list.filter((s) => s.status === 'completed' || s.status === 'compensated' || s.status === 'stuck');
  const completed = ended.filter((s) => s.status === 'completed');
  const compensated = ended.filter((s) => s.status === 'compensated');
  const durations = completed.map(runningMs).sort((a, b) => a - b);
  const buckets = new Map<number, { completed: number; compensated: number; stuck: number; durations: number[] }>();
  for (const s of ended) {
    const t = Math.floor(s.updatedAt / MINUTE) * MINUTE;
    let b = buckets.get(t);
    if (!b) buckets.set(t, (b = { completed: 0, compensated: 0, stuck: 0, durations: [] }));
    b[s.status as 'completed' | 'compensated' | 'stuck']++;
    if (s.status === 'completed') b.durations.push(runningMs(s));
  }
  // The last 30 minutes always appear (zeros where nothing ended), so the chart has a time axis.
  const nowBucket = Math.floor(now / MINUTE) * MINUTE;
  for (let t = nowBucket - 29 * MINUTE; t <= nowBucket; t += MINUTE)
    if (!buckets.has(t)) buckets.set(t, { completed: 0, compensated: 0, stuck: 0, durations: [] });
  const series = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .slice(-120)
    .map(([t, b]) => ({
      t,
      completed: b.completed,
      compensated: b.compensated,
      stuck: b.stuck,
      p90Ms: quantile(
        b.durations.sort((x, y) => x - y),
        0.9,
      ),
    }));
  const times = list.map((s) => s.createdAt);
  return {
    window: {
      sagas: list.length,
      from: times.length ? new Date(Math.min(...times)).toISOString() : null,
      to: times.length ? new Date(Math.max(...times)).toISOString() : null,
    },
    successRate: ended.length ? completed.length / ended.length : null,
    compensationRate: ended.length ? compensated.length / ended.length : null,
    latencyMs: { p50: quantile(durations, 0.5), p90: quantile(durations, 0.9), p99: quantile(durations, 0.99) },
    series,
  };
}

export function registerOverviewRoutes(api: OpenAPIHono, ctx: ApiContext): void {
  route(
    api,
    {
      method: 'get',
      path: '/v1/overview',
      tags: ['operations'],
      summary: 'Dashboard numbers: success and compensation rates, latency against targets, in flight, stuck, consistency window, drift',
      responses: { ...polled(Overview, 'Computed over the newest sagas in the log (window).'), ...problems(503) },
    },
    async (c) => {
      const log = ctx.app.engine.log;
      const [page, inFlight, pending, stuck] = await Promise.all([
        log.list({}, { limit: Math.min(ctx.opts.scanLimit, MAX_PAGE) }),
        log.countUpTo({ status: ['running', 'compensating'] }, COUNT_CAP),
        log.countUpTo({ status: 'pending' }, COUNT_CAP),
        log.countUpTo({ status: 'stuck' }, COUNT_CAP),
      ]);
      const list = page.sagas;
      const vectorIndex = await vectorIndexOf(ctx);
      const windows = [...ctx.state.timings.consistencyWindows()].sort((a, b) => a - b);
      const last = ctx.state.lastVerify;
      const byKind: Record<string, number> = {};
      for (const v of last?.report.violations ?? []) byKind[v.kind] = (byKind[v.kind] ?? 0) + 1;
      return c.json(
        {
          ...overviewOf(list),
          // Whole-log counts (the rates above cover the window only).
          inFlight: inFlight.count,
          pending: pending.count,
          stuck: stuck.count,
          countsCapped: inFlight.capped || pending.capped || stuck.capped,
          targets: ctx.opts.targets,
          consistencyWindowMs: { samples: windows.length, p50: quantile(windows, 0.5), p99: quantile(windows, 0.99) },
          lastVerify: last
            ? { at: last.at.toISOString(), documents: last.report.documents, violations: last.report.violations.length, byKind }
            : null,
          profile: ctx.app.profile.describe().profile,
          namespace: ctx.app.profile.describe().namespace,
          vectorIndex,
          mode: ctx.opts.mode,
          faultDrill: ctx.opts.faultDrill ? { stores: [...ctx.opts.faultDrill.stores] } : null,
        },
        200,
      );
    },
  );

  route(
    api,
    {
      method: 'post',
      path: '/v1/verify',
      tags: ['operations'],
      summary: 'Check the cross-store invariant now (what `apex-memory verify` checks)',
      description:
        'Reads every store; meaningful once no saga is running (violations of in-flight sagas are expected). The overview shows the last result as drift.',
      responses: { 200: json(VerifyResult, 'The violations found (at most 1,000 listed).'), ...problems(503) },
    },
    async (c) => {
      // The active index as the record names it now (it moves at a --switch), with its chunking.
      const view = await readViewOf(ctx.app);
      const report = await verifyStores(view.stores, { maxViolations: 1_000, chunking: view.chunking });
      const at = new Date();
      ctx.state.lastVerify = { at, report };
      ctx.opts.onVerify?.(report);
      return c.json(
        {
          at: at.toISOString(),
          documents: report.documents,
          committed: report.committed,
          violations: report.violations.map((v) => ({ kind: v.kind, store: v.store, docId: v.docId, detail: v.detail })),
        },
        200,
      );
    },
  );
}

/** The active index record's phase and targets (docs/reindex.md); null when there is none or it is unreadable. */
async function vectorIndexOf(ctx: ApiContext) {
  const index = ctx.app.index;
  if (!index) return null;
  const cur = await index.record.read().catch(() => undefined);
  if (!cur) return null;
  const { phase, active, next, previous } = cur.state;
  return { phase, active, next, previous, mismatch: index.mismatch ?? null };
}
