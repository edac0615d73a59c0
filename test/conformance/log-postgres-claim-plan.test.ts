// Claims independent of the backlog (issue 19): with 200,000 pending sagas (and running, expired
// and ended ones beside them) a claim of 16 must read about 16 rows from the heads of its partial
// indexes: no Seq Scan of the sagas table, no Sort over the queue. EXPLAIN ANALYZE runs the real
// claim statement (in a transaction rolled back) and the test walks the plan. Before the fix the
// claim sorted every pending and running row (27 ms per claim at 50,000 pending, spilling to disk).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { logStatements } from '../../src/log/postgres/sql.js';
import { quoteSchema } from '../../src/log/postgres/schema.js';
import { testServices } from '../support/services.js';

const url = testServices().databaseUrl;
const admin = new pg.Pool({ connectionString: url, max: 1 });
after(() => admin.end());

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

const PENDING = 200_000;
const LIMIT = 16;

test(
  `a claim of ${LIMIT} reads ~${LIMIT} rows with ${PENDING.toLocaleString('en')} pending: index scans only, no Sort over the queue`,
  { timeout: 120_000 },
  async () => {
    const schema = `apex_saga_plan_${randomBytes(5).toString('hex')}`;
    const log = await PostgresSagaLog.open({ connectionString: url, schema, poolSize: 2 });
    await log.close();
    const s = quoteSchema(schema);
    try {
      const now = Date.now();
      // The backlog: pending in creation order; 2,000 running under live leases (a busy fleet),
      // 40 running whose lease expired (dead workers), 50,000 ended.
      await admin.query(
        `INSERT INTO ${s}.sagas (id, name, version, status, input, fencing_token, lease_expires_at, created_at, updated_at, next_seq)
      SELECT 'p' || lpad(i::text, 7, '0'), 'noop', 1, 'pending', '{}', 0, NULL, $1::bigint + i, $1::bigint + i, 1 FROM generate_series(1, ${PENDING}) i`,
        [now - 10_000_000],
      );
      await admin.query(
        `INSERT INTO ${s}.sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, next_seq)
      SELECT 'r' || lpad(i::text, 7, '0'), 'noop', 1, 'running', '{}', 'live-worker', 1, $1::bigint + 600000, $1::bigint - 20000000 + i, $1::bigint, 2 FROM generate_series(1, 2000) i`,
        [now],
      );
      await admin.query(
        `INSERT INTO ${s}.sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at, next_seq)
      SELECT 'x' || lpad(i::text, 7, '0'), 'noop', 1, 'running', '{}', 'dead-worker', 1, $1::bigint - 1000, $1::bigint - 30000000 + i, $1::bigint, 2 FROM generate_series(1, 40) i`,
        [now],
      );
      await admin.query(
        `INSERT INTO ${s}.sagas (id, name, version, status, input, fencing_token, created_at, updated_at, next_seq)
      SELECT 'c' || lpad(i::text, 7, '0'), 'noop', 1, 'completed', '{}', 1, $1::bigint - 40000000 + i, $1::bigint - 40000000 + i, 5 FROM generate_series(1, 50000) i`,
        [now],
      );
      await admin.query(`ANALYZE ${s}.sagas`);

      const sql = logStatements(s);
      const explain = async (params: unknown[]): Promise<PlanNode> => {
        const client = await admin.connect();
        try {
          await client.query('BEGIN');
          const res = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
            `EXPLAIN (ANALYZE, FORMAT JSON) ${sql.claim}`,
            params,
          );
          await client.query('ROLLBACK');
          const plan = res.rows[0]?.['QUERY PLAN'][0]?.Plan;
          assert.ok(plan, 'EXPLAIN returned a plan');
          return plan;
        } finally {
          client.release();
        }
      };
      const defs = ['noop@1'];
      const check = (plan: PlanNode, what: string, maxVisited: number): void => {
        const all = nodes(plan);
        const text = JSON.stringify(all.map((n) => [n['Node Type'], n['Index Name'] ?? n['Relation Name'] ?? '', n['Actual Rows']]));
        for (const n of all) {
          assert.notEqual(n['Node Type'], 'Seq Scan', `${what}: no Seq Scan (${text})`);
          if (n['Node Type'] === 'Sort')
            assert.ok((n['Actual Rows'] ?? 0) <= 2 * LIMIT, `${what}: a Sort only over the picked rows (${text})`);
        }
        const scans = all.filter((n) => n['Relation Name'] === 'sagas' && /Scan/.test(n['Node Type']));
        assert.ok(scans.length > 0, `${what}: the plan reads sagas (${text})`);
        const visited = scans.reduce(
          (sum, n) => sum + ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1),
          0,
        );
        assert.ok(visited <= maxVisited, `${what}: ${visited} rows visited, at most ${maxVisited} expected (${text})`);
      };
      // owner, lease ms, includePending, names, limit, definitions, dead owners
      const pendingOnly = await explain(['w1', 30_000, true, null, LIMIT, defs, null]);
      check(pendingOnly, 'claim with expired leases and pending', 4 * LIMIT);
      // Dead owners on this host: the first branch reads the running rows (bounded by the fleet's
      // concurrency, here 2,040), never the pending backlog.
      const withDead = await explain(['w1', 30_000, true, null, LIMIT, defs, ['dead-worker']]);
      check(withDead, 'claim with dead owners', 2_040 + 4 * LIMIT);

      // And the claims themselves: expired leases first, then pending oldest first, never a live lease.
      const reopened = await PostgresSagaLog.open({ connectionString: url, schema, poolSize: 2 });
      try {
        const first = await reopened.claim({
          owner: 'w1',
          leaseMs: 30_000,
          limit: 50,
          includePending: true,
          definitions: [{ name: 'noop', version: 1 }],
        });
        const ids = first.map((c) => c.saga.sagaId);
        assert.equal(ids.filter((id) => id.startsWith('x')).length, 40, 'all 40 expired leases claimed');
        assert.deepEqual(
          ids.filter((id) => id.startsWith('p')),
          ['p0000001', 'p0000002', 'p0000003', 'p0000004', 'p0000005', 'p0000006', 'p0000007', 'p0000008', 'p0000009', 'p0000010'],
        );
        assert.equal(ids.filter((id) => id.startsWith('r') || id.startsWith('c')).length, 0, 'no live lease and no ended saga');
        const loaded = await reopened.loadMany(ids.slice(0, 5));
        assert.deepEqual(loaded.map((l) => l.sagaId).sort(), ids.slice(0, 5).sort());
      } finally {
        await reopened.close();
      }
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    }
  },
);
