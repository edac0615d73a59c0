// Issue 15, part 1: short store outages are ridden out, not rolled back. The sample corpus (304
// documents) is ingested by the CLI's ingest loop in-process (c=8, saga log on SQLite) against the
// real servers, each reached through a TCP proxy; during the run PostgreSQL, Neo4j, Redis and the
// Qdrant front are each cut for 10 s in turn (30 s at RELIABILITY_SCALE>1; every connection
// destroyed, new ones refused; the shared servers themselves keep running). 10 s keeps the point
// within CI's budget: longer than the store timeout (5 s here), so every waiting step fails and
// backs off several times (25 ms doubling up to 5 s) and the saga log records its waits; both
// lengths are well inside the 60 s outage budget. Expected: 0 compensated, 0 stuck, 0 errors, every
// document committed, verify at 0 violations; while a store is down the documents waiting on it
// are counted (the progress line's source, and the saga log that `status` reads). Then a
// permanent error (a vector of the wrong dimension) still compensates at once: one attempt.
// OUTAGE_MS sets the outages' length when run by hand.
// run-tests: early
// (no timed bound: it runs while the group's "beside" files load the machine.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp, type App } from '../../src/app.js';
import { runIngest } from '../../src/cli/ingest-run.js';
import { HashingEmbedder, type Embedder } from '../../src/ingest/embedder.js';
import { waitingInLog } from '../../src/ingest/store-waits.js';
import { verifyStores } from '../../src/ingest/verify.js';
import type { StoreName } from '../../src/stores/types.js';
import { realStores } from '../support/real-stores.js';
import { startTcpProxy, viaProxy, type CuttableProxy } from '../support/tcp-proxy.js';
import { reliabilityScale } from '../support/sim-results.js';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? (reliabilityScale() > 1 ? 30_000 : 10_000));
const CORPUS = 304;
/** Documents processed before each cut: the run is well under way, and far from its end. */
const CUT_AFTER: Array<[StoreName, number]> = [
  ['postgres', 20],
  ['neo4j', 70],
  ['redis', 120],
  ['qdrant', 170],
];
const WRONG = 'WRONG-DIMENSION';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The hashing embedder, except for texts with the marker: one dimension too many. */
function wrongForMarker(inner: Embedder): Embedder {
  return {
    name: inner.name,
    dimension: inner.dimension,
    embed: async (texts, signal) => {
      const vs = await inner.embed(texts, signal);
      return vs.map((v, i) => (texts[i]?.includes(WRONG) ? [...v, 0.5] : v));
    },
  };
}

test(
  `outages of ${OUTAGE_MS / 1000} s of each store during an ingest of the corpus: 0 compensated, all committed, verify 0; a permanent error still compensates at once`,
  { timeout: 300_000 },
  async () => {
    const env = await realStores('outage_ride_out', 10);
    const pg = new URL(env.databaseUrl);
    const neo = new URL(env.config.neo4jUrl ?? '');
    const redis = new URL(env.config.redisUrl ?? '');
    const qdrant = new URL(env.qdrant.url);
    const proxies: Record<StoreName, CuttableProxy> = {
      postgres: await startTcpProxy(pg.hostname, Number(pg.port)),
      neo4j: await startTcpProxy(neo.hostname, Number(neo.port)),
      redis: await startTcpProxy(redis.hostname, Number(redis.port)),
      qdrant: await startTcpProxy(qdrant.hostname, Number(qdrant.port)),
    };
    const config = {
      ...env.config,
      databaseUrl: viaProxy(env.databaseUrl, proxies.postgres),
      neo4jUrl: viaProxy(neo.toString(), proxies.neo4j),
      redisUrl: viaProxy(redis.toString(), proxies.redis),
      qdrantUrl: viaProxy(env.qdrant.url, proxies.qdrant).replace(/\/$/, ''),
      storeTimeoutMs: 5_000,
    };
    let app: App | undefined;
    try {
      app = await openApp({ config, embedder: wrongForMarker(new HashingEmbedder()) });
      const a = app;
      assert.match(a.profile.describe().sagaLog, /sqlite/i);
      let processed = 0;
      const run = runIngest(a, ['examples/corpus'], { concurrency: 8, onItem: (t) => void (processed = t.processed) });
      const seen: Record<string, { waiting: number; inLog: number; during: number }> = {};
      for (const [store, after] of CUT_AFTER) {
        while (processed < after) await sleep(20);
        proxies[store].cutNow();
        const cutAt = Date.now();
        const atCut = processed;
        const s = { waiting: 0, inLog: 0, during: 0 };
        seen[store] = s;
        while (Date.now() - cutAt < OUTAGE_MS) {
          await sleep(500);
          s.waiting = Math.max(s.waiting, a.waits.current()[store] ?? 0);
          if (Date.now() - cutAt > OUTAGE_MS / 2 && s.inLog === 0) s.inLog = (await waitingInLog(a.profile.log)).counts[store] ?? 0;
        }
        s.during = processed - atCut;
        proxies[store].restore();
        console.log(
          `${store} down ${Date.now() - cutAt} ms at ${atCut} documents: at most ${s.waiting} waiting on it, ${s.inLog} in the saga log, ${s.during} finished meanwhile`,
        );
      }
      const tally = await run;
      const summary = tally.summary();
      console.log(`ingest: ${JSON.stringify(summary)}; waited on a store: ${JSON.stringify(a.waits.total())}`);
      assert.deepEqual(
        tally.failures.map((f) => `${f.kind} ${f.source}: ${f.code} ${f.message}`),
        [],
      );
      assert.equal(summary.completed, CORPUS);
      assert.equal(summary.compensated, 0);
      for (const [store] of CUT_AFTER) {
        assert.ok((seen[store]?.waiting ?? 0) > 0, `documents were counted waiting on ${store} while it was down`);
        assert.ok((seen[store]?.inLog ?? 0) > 0, `the saga log showed sagas waiting on ${store} (what \`status\` reads)`);
        assert.ok((a.waits.total()[store] ?? 0) > 0, `the summary counts documents that waited on ${store}`);
      }
      assert.deepEqual(a.waits.current(), {}, 'nothing waits once the run is over');
      const report = await verifyStores(a.stores);
      assert.equal(report.committed, CORPUS, 'every document committed');
      assert.deepEqual(report.violations, [], 'verify reports no violation');

      // A permanent error is not an outage: one attempt, then the saga compensates.
      const bad = await a.writer.ingest({
        id: 'outage/wrong-dimension.md',
        title: 'wrong',
        text: `A vector of the ${WRONG} kind.`,
        metadata: {},
      });
      assert.equal(bad.status, 'compensated', JSON.stringify(bad));
      assert.match(bad.reason?.code ?? '', /PERMANENT/);
      const stored = await a.profile.log.load(bad.sagaId ?? '');
      const attempts = (stored?.records ?? []).filter((r) => r.type === 'step_started' && r.step === 'qdrant_write').length;
      assert.equal(attempts, 1, 'the failing step ran once: no retry of a permanent error');
      assert.deepEqual((await verifyStores(a.stores)).violations, [], 'the compensated document left nothing behind');
      assert.deepEqual(env.qdrant.violations(), [], 'every Qdrant request and response met the OpenAPI contract');
    } finally {
      for (const p of Object.values(proxies)) p.restore();
      await app?.close();
      for (const p of Object.values(proxies)) await p.close();
      await env.close();
    }
  },
);
