// Issue 13 item 4: every store, and the saga log's database, really stopped and started again
// while an ingest runs; `status` and `/readyz` must say so while it lasts. Private servers (not the
// shared ones, not proxies: test/support/private-servers.ts): PostgreSQL for the documents, a
// second PostgreSQL cluster for the saga log, redis-server, the Neo4j launcher and the Qdrant Edge
// front. `apex-memory ingest` (a child process, c=8) reads JSONL from a named pipe the test feeds
// one document every 50 ms, so it is running for the whole test; `apex-memory serve --mode run`
// (another child) answers /readyz and resumes orphaned sagas. In turn, each server is killed
// (SIGKILL; PostgreSQL SIGQUIT, its immediate crash-like stop), kept down at least OUTAGE_MS
// (10 s; Neo4j: its restart, which takes as long) and until both `status --json` (exit 1, that server not ok) and /readyz (503, that check
// not ok) have reported it, then started again on the same port and data until both report it
// healthy. Then the pipe is closed: the ingest must exit as documented (0: every document
// completed), nothing may be left running, a stuck saga must complete after `sagas retry`,
// `verify` must report 0 and every document fed must be committed.
// run-tests: beside
// (its servers are its own, on ports of its own; it touches no shared one, so it runs beside the
// group's other files: its bounds are generous, 90 s for each thing to be seen.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnCli, type CliChild } from '../support/cli-async.js';
import { startPrivateServers, type PrivateServers, type ServerName } from '../support/private-servers.js';
import { writeResult } from '../support/sim-results.js';
import { pollUntil, readyz, sleep, startFeeder, statusOf, statusOnce, type Feeder, type StatusRun } from './outage-status-harness.js';

const OUTAGE_MS = Number(process.env.OUTAGE_MS ?? 10_000);
/** Slower than the ingest writes even on a loaded machine, so that little waits in the pipe. */
const FEED_EVERY_MS = 250;
const ORDER: ServerName[] = ['postgres', 'neo4j', 'redis', 'qdrant', 'saga_log'];
/** Documents that must complete between two outages: each outage hits a run that is writing. */
const PROGRESS_BETWEEN = 10;
/** Bounds for what must happen (generous: the CI machine is slow and shared); never reached when all is well. */
const SEEN_BOUND_MS = 90_000;

interface OutageFigures {
  server: ServerName;
  downMs: number;
  restartMs: number;
  statusDown: { code: number | null; detail: string; tries: number; waitingOnStore: Record<string, number> | null };
  readyzDown: { status: number; detail: string; tries: number };
  statusUp: { code: number | null; tries: number };
  readyzUp: { status: number; tries: number };
  completedBefore: number;
}

function completedIn(status: Awaited<ReturnType<typeof statusOnce>>): number {
  return status.report?.sagas?.completed ?? -1;
}

test(
  'outages of every store and of the saga log database, really stopped and started again during an ingest: status and /readyz report each; nothing crashes, nothing is lost, verify 0',
  { timeout: 900_000 },
  async () => {
    const t0 = Date.now();
    let servers: PrivateServers | undefined;
    let serve: CliChild | undefined;
    let ingest: CliChild | undefined;
    let feeder: Feeder | undefined;
    const work = mkdtempSync(join(tmpdir(), 'apex-outage-run-'));
    try {
      servers = await startPrivateServers();
      const s = servers.servers;
      console.log(`private servers up in ${Date.now() - t0} ms under ${servers.dir}`);
      const env: Record<string, string> = {
        APEX_DATA_DIR: join(work, 'data'),
        DATABASE_URL: s.postgres.url,
        SAGA_LOG_URL: s.saga_log.url,
        NEO4J_URL: s.neo4j.url,
        REDIS_URL: s.redis.url,
        QDRANT_URL: s.qdrant.url,
        // The outage budget is raised past a Neo4j restart on a slow machine: this test is about
        // reporting and surviving the outage; the default budget (60 s) is docs/documents.md's.
        APEX_STORE_OUTAGE_BUDGET_MS: '300000',
        // The cache step (after the pivot) gives up after 3 s: the Redis outage (10 s) leaves sagas
        // stuck, and the operator's path (stuck -> `sagas retry`) runs in every run (issue 22).
        APEX_STORE_OUTAGE_BUDGET_STEPS: 'redis_write=3000',
      };
      // A short store timeout keeps each `status` quick while a server is down.
      const statusEnv = { ...env, APEX_STORE_TIMEOUT_MS: '3000' };
      const status = (): ReturnType<typeof statusOnce> => statusOnce(statusEnv);
      serve = spawnCli(['serve', '--port', '0', '--mode', 'run'], env);
      const base = (await serve.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 120_000))[1] ?? '';
      const first = await pollUntil(
        () => readyz(base),
        (r) => r.status === 200,
        SEEN_BOUND_MS,
        'readyz 200 at start',
      );
      assert.deepEqual(first.last.checks.map((c) => c.name).sort(), ['neo4j', 'postgres', 'qdrant', 'redis', 'saga_log']);

      const fifo = join(work, 'docs.jsonl');
      execFileSync('mkfifo', [fifo]);
      ingest = spawnCli(['ingest', fifo, '--json', '--no-progress', '-c', '8'], env);
      feeder = startFeeder(fifo, FEED_EVERY_MS);

      const outages: OutageFigures[] = [];
      let mark = 0;
      for (const name of ORDER) {
        // The run is writing: some documents completed since the last outage (read from status).
        const progressed = await pollUntil(
          status,
          (r) => completedIn(r) >= mark + PROGRESS_BETWEEN,
          SEEN_BOUND_MS,
          `${PROGRESS_BETWEEN} more sagas completed before stopping ${name}`,
        );
        const completedBefore = completedIn(progressed.last);
        assert.equal(ingest.child.exitCode, null, `the ingest is running when ${name} is stopped:\n${ingest.output().slice(-3000)}`);
        const stoppedAt = Date.now();
        await s[name].proc.kill();
        const isDown = (ok: boolean | undefined): boolean => ok === false;
        // Down is exit 1 with that server not ok and every other one ok (a health check that times
        // out on a loaded machine only makes it ask again).
        const othersOk = (r: StatusRun): boolean =>
          (r.report?.stores.every((x) => x.store === name || x.ok) ?? false) && (name === 'saga_log' || r.report?.sagaLog.ok === true);
        const st = await pollUntil(
          status,
          (r) => r.code === 1 && isDown(statusOf(r.report, name)?.ok) && othersOk(r),
          SEEN_BOUND_MS,
          `status reports ${name} down and only ${name}`,
        );
        const rz = await pollUntil(
          () => readyz(base),
          (r) => r.status === 503 && isDown(r.checks.find((c) => c.name === name)?.ok),
          SEEN_BOUND_MS,
          `/readyz reports ${name} down`,
        );
        // Neo4j's start alone takes about OUTAGE_MS or more (10-40 s here): it starts as soon as both have seen it down.
        if (name !== 'neo4j') await sleep(stoppedAt + OUTAGE_MS - Date.now());
        assert.equal(ingest.child.exitCode, null, `the ingest survived the outage of ${name}:\n${ingest.output().slice(-3000)}`);
        assert.equal(serve.child.exitCode, null, `serve survived the outage of ${name}:\n${serve.output().slice(-3000)}`);
        const startAt = Date.now();
        await s[name].proc.start();
        const upAt = Date.now();
        const stUp = await pollUntil(
          status,
          (r) => r.report !== undefined && r.report.stores.every((x) => x.ok) && r.report.sagaLog.ok,
          SEEN_BOUND_MS,
          `status reports ${name} healthy again`,
        );
        const rzUp = await pollUntil(
          () => readyz(base),
          (r) => r.status === 200,
          SEEN_BOUND_MS,
          `/readyz 200 after ${name} came back`,
        );
        const fig: OutageFigures = {
          server: name,
          downMs: upAt - stoppedAt,
          restartMs: upAt - startAt,
          statusDown: {
            code: st.last.code,
            detail: statusOf(st.last.report, name)?.detail ?? '',
            tries: st.tries,
            waitingOnStore: st.last.report?.waitingOnStore ?? null,
          },
          readyzDown: { status: rz.last.status, detail: rz.last.checks.find((c) => c.name === name)?.detail ?? '', tries: rz.tries },
          statusUp: { code: stUp.last.code, tries: stUp.tries },
          readyzUp: { status: rzUp.last.status, tries: rzUp.tries },
          completedBefore,
        };
        outages.push(fig);
        console.log(
          `${name}: down ${fig.downMs} ms (restart ${fig.restartMs} ms); status exit ${fig.statusDown.code}: ${fig.statusDown.detail.slice(0, 160)}; readyz ${fig.readyzDown.status}: ${fig.readyzDown.detail.slice(0, 120)}; waiting ${JSON.stringify(fig.statusDown.waitingOnStore)}`,
        );
        mark = Math.max(mark, completedIn(stUp.last), completedBefore);
      }

      await feeder.finish();
      const fed = feeder.docs.length;
      const ran = await ingest.exited;
      const summary = JSON.parse(ran.stdout) as {
        ok: boolean;
        completed: number;
        compensated: number;
        stuck: number;
        errors: number;
        unknown: number;
        rejected: number;
        waitedOnStore: Record<string, number>;
        failures: Array<{ kind: string; code: string; message: string; docId?: string; sagaId?: string }>;
      };
      const byCode = new Map<string, { n: number; example: string }>();
      for (const f of summary.failures) {
        const key = `${f.kind} ${f.code}`;
        const e = byCode.get(key) ?? { n: 0, example: f.message.slice(0, 300) };
        e.n++;
        byCode.set(key, e);
      }
      const failureKinds = Object.fromEntries([...byCode].map(([k, e]) => [k, e.n]));
      console.log(
        `ingest exit ${ran.code}: ${fed} fed, ${JSON.stringify({ ...summary, failures: undefined, profile: undefined })}; failures ${JSON.stringify([...byCode])}`,
      );
      assert.equal(ran.code, summary.ok ? 0 : 1, 'the ingest exits as documented: 0 when every document completed, else 1');
      assert.equal(
        summary.completed + summary.compensated + summary.stuck + summary.errors + summary.unknown + summary.rejected,
        fed,
        'every document fed got an outcome',
      );
      assert.equal(summary.rejected, 0);
      // The stores' outages and the saga log's are ridden out (budget above; src/log/ride-out-log.ts).
      // A saga whose log still failed for good would be `unknown` (it may commit), never an error.
      // A compensation is allowed (it is final and the re-run writes the document) and reported:
      // under heavy load a Neo4j write that outlives its server-side timeout on a lock comes back as
      // a permanent LockClientStopped. `stuck`: the cache step's short budget (env above).
      const unexpected = summary.failures.filter((f) => f.kind !== 'compensated' && f.kind !== 'stuck' && f.kind !== 'unknown');
      assert.deepEqual(unexpected, [], 'no document failed for another reason');

      // Nothing is left pending, running or compensating (serve resumes what an expired lease left).
      const final4 = (r: StatusRun, k: string[]): boolean => r.report?.sagaLog.ok === true && k.every((x) => r.report?.sagas?.[x] === 0);
      let settled = await pollUntil(
        status,
        (r) => final4(r, ['pending', 'running', 'compensating']),
        SEEN_BOUND_MS,
        'every saga final or stuck',
      );
      // Stuck sagas (an operator's case) complete after `sagas retry`.
      const retried: string[] = [];
      if ((settled.last.report?.sagas?.stuck ?? 0) > 0) {
        const stuckList = JSON.parse(
          (await spawnCli(['sagas', 'list', '--status', 'stuck', '--json', '--limit', '10000'], env).exited).stdout,
        ) as { sagas: Array<{ sagaId: string }> };
        // The first through the CLI (`sagas retry`), the rest in one bulk retry through serve's API:
        // a CLI process per stuck saga cost minutes on the loaded machine (20 stuck in one run).
        const [head, ...rest] = stuckList.sagas.map((x) => x.sagaId);
        if (head !== undefined) {
          const r = await spawnCli(['sagas', 'retry', head, '--json'], env).exited;
          assert.equal(r.code, 0, `sagas retry ${head}: ${r.stdout}${r.stderr}`);
          retried.push(head);
        }
        for (let i = 0; i < rest.length; i += 500) {
          const ids = rest.slice(i, i + 500);
          const res = await fetch(`${base}/v1/sagas/bulk-retry`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ sagaIds: ids, dryRun: false, limit: ids.length }),
          });
          assert.equal(res.status, 200, `bulk retry: ${await res.text()}`);
          retried.push(...ids);
        }
        settled = await pollUntil(
          status,
          (r) => final4(r, ['pending', 'running', 'compensating', 'stuck']),
          SEEN_BOUND_MS,
          'every saga final after the retries',
        );
      }
      assert.ok(retried.length > 0, 'the Redis outage left sagas stuck (cache step budget 3 s) and `sagas retry` completed them');
      assert.equal(settled.last.code, 0, 'status: every store and the log ok, nothing stuck');
      // No document reported as not written (compensated, error) is committed now that every saga
      // has ended (issue 22: 7 of 117 reported failed were committed by recovery).
      const reportedFailed = summary.failures
        .filter((f) => f.kind === 'compensated' || f.kind === 'error')
        .flatMap((f) => (f.docId ? [f.docId] : []));
      const db = new pg.Client({ connectionString: s.postgres.url });
      await db.connect();
      const committedAnyway = (
        await db.query<{ id: string }>("SELECT id FROM documents WHERE id = ANY($1::text[]) AND ingestion_status = 'committed'", [
          reportedFailed,
        ])
      ).rows.map((r) => r.id);
      await db.end();
      assert.deepEqual(committedAnyway, [], 'no document reported failed was committed after all');
      const sagas = settled.last.report?.sagas ?? {};

      const verify = await spawnCli(['verify', '--json'], env).exited;
      const report = JSON.parse(verify.stdout) as { violations: unknown[]; committed: number };
      assert.equal(verify.code, 0, verify.stderr);
      assert.deepEqual(report.violations, [], 'verify reports no violation');

      // Whatever did not complete in the first run (an error before its saga began, a compensation)
      // is written by a re-run of the same input; the others are unchanged.
      const file = join(work, 'all.jsonl');
      writeFileSync(file, feeder.docs.map((d) => JSON.stringify(d)).join('\n'));
      const rerun = await spawnCli(['ingest', file, '--json', '--no-progress'], env).exited;
      const again = JSON.parse(rerun.stdout) as { completed: number; created: number; unchanged: number };
      assert.equal(rerun.code, 0, rerun.stderr.slice(-2000));
      assert.equal(again.completed, fed);
      const final = JSON.parse((await spawnCli(['verify', '--json'], env).exited).stdout) as { violations: unknown[]; committed: number };
      assert.deepEqual(final.violations, []);
      assert.equal(final.committed, fed, 'every document fed is committed');

      serve.child.kill('SIGTERM');
      const served = await serve.exited;
      assert.equal(served.code, 0, `serve exits 0 on SIGTERM: ${served.stderr.slice(-1000)}`);

      writeResult('outage-status', {
        outageMs: OUTAGE_MS,
        outages,
        fed,
        ingest: {
          exitCode: ran.code,
          completed: summary.completed,
          compensated: summary.compensated,
          stuck: summary.stuck,
          errors: summary.errors,
          unknown: summary.unknown,
          waitedOnStore: summary.waitedOnStore,
          failures: failureKinds,
        },
        stuckRetried: retried.length,
        rerun: { created: again.created, unchanged: again.unchanged },
        sagas,
        violations: final.violations.length,
        committed: final.committed,
        wallMs: Date.now() - t0,
      });
    } finally {
      await feeder?.finish().catch(() => undefined);
      for (const c of [ingest, serve]) if (c && c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      await servers?.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
);
