// The PostgreSQL saga log behind PgBouncer in transaction mode (APEX_PG_POOLER=transaction), the
// pooler `bash scripts/services.sh up` starts in front of the test server: the whole log
// conformance suite (begin, append, fencing, leases, claims, takeover by a second owner) runs
// through it, with LISTEN and migrations on the direct URL, as SAGA_LOG_DIRECT_URL does.
import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import type { SagaLog } from '../../src/saga/index.js';
import { requireServiceVar, testServices } from '../support/services.js';
import { sagaLogConformance } from '@apex-memory/saga/testing';

const direct = testServices().databaseUrl;
const bouncer = requireServiceVar('APEX_TEST_PGBOUNCER_URL');
const admin = new pg.Pool({ connectionString: direct, max: 1 });
after(() => admin.end());
const newSchema = (): string => `apex_saga_pgb_${randomBytes(6).toString('hex')}`;

sagaLogConformance(
  'postgres via pgbouncer (transaction mode)',
  () =>
    PostgresSagaLog.open({
      connectionString: bouncer,
      schema: newSchema(),
      poolSize: 4,
      connection: { pooler: 'transaction', directConnectionString: direct },
    }),
  {
    test: { describe, it },
    shortLeaseMs: 200,
    cleanup: (log: SagaLog) => admin.query(`DROP SCHEMA IF EXISTS "${(log as PostgresSagaLog).schema}" CASCADE`).then(() => undefined),
  },
);

test(
  'behind the pooler without a direct URL: migrations (advisory xact lock) and waits (polling) still work',
  { timeout: 30_000 },
  async () => {
    const schema = newSchema();
    try {
      const logs = await Promise.all(
        [1, 2, 3].map(() =>
          PostgresSagaLog.open({ connectionString: bouncer, schema, poolSize: 2, connection: { pooler: 'transaction' } }),
        ),
      );
      const applied = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".schema_migrations`);
      assert.equal(Number(applied.rows[0]?.n), 6);
      const t0 = Date.now();
      await logs[0]?.waitForChange('nobody', 5_000);
      assert.ok(Date.now() - t0 < 2_000, 'without LISTEN a wait returns soon so the caller re-reads the log');
      await Promise.all(logs.map((l) => l.close()));
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  },
);
