// The PostgreSQL SagaLog against the shared conformance suite, on the real test server
// (`bash scripts/services.sh up`). Each test gets its own schema, dropped afterwards; leases are
// real (the database's clock), so lease tests wait a few hundred ms.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { openSagaLog } from '../../src/log/open.js';
import type { SagaLog } from '../../src/saga/index.js';
import { testServices } from '../support/services.js';
import { sagaLogConformance, beginReq, rejectsWith } from '@apex-memory/saga/testing';

const url = testServices().databaseUrl;
const admin = new pg.Pool({ connectionString: url, max: 2 });
after(() => admin.end());

const newSchema = (): string => `apex_saga_t_${randomBytes(6).toString('hex')}`;
async function dropSchema(schema: string): Promise<void> {
  await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

sagaLogConformance('postgres', () => PostgresSagaLog.open({ connectionString: url, schema: newSchema(), poolSize: 4 }), {
  test: { describe, it },
  shortLeaseMs: 200,
  cleanup: (log: SagaLog) => dropSchema((log as PostgresSagaLog).schema),
});

describe('PostgresSagaLog specifics', () => {
  it('workers starting together migrate once, without racing', async () => {
    const schema = newSchema();
    try {
      const logs = await Promise.all(Array.from({ length: 4 }, () => PostgresSagaLog.open({ connectionString: url, schema, poolSize: 2 })));
      const applied = await admin.query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      assert.deepEqual(
        applied.rows.map((r) => r.version),
        [1, 2, 3, 4, 5, 6],
      );
      // Appends and lease renewals change these columns: an index keyed on any of them makes such
      // updates non-HOT (migration 6 dropped sagas_ended_updated). sagas_lease_due's expression on
      // lease_expires_at is the one the claims need; it is not a plain key, so not listed here.
      const hot = await admin.query<{ index: string; column: string }>(
        `SELECT i.relname AS index, a.attname AS column
           FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
           JOIN pg_namespace n ON n.oid = t.relnamespace
           JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY (x.indkey::smallint[])
          WHERE n.nspname = $1 AND t.relname = 'sagas' AND a.attname IN ('updated_at', 'next_seq', 'lease_expires_at', 'owner')`,
        [schema],
      );
      assert.deepEqual(hot.rows, [], 'no index keys on a column that appends or renewals change');
      const fillfactor = await admin.query<{ reloptions: string[] | null }>(
        `SELECT c.reloptions FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'sagas'`,
        [schema],
      );
      assert.deepEqual(fillfactor.rows[0]?.reloptions, ['fillfactor=70']);
      await Promise.all(logs.map((l) => l.close()));
    } finally {
      await dropSchema(schema);
    }
  });

  it('two instances (two workers) share sagas: the claimer fences the first owner', async () => {
    const schema = newSchema();
    const a = await PostgresSagaLog.open({ connectionString: url, schema });
    const b = await PostgresSagaLog.open({ connectionString: url, schema });
    try {
      const req = beginReq({ leaseMs: 100 });
      const begun = await a.begin(req);
      assert.ok(begun.created);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const [claimed] = await b.claim({ owner: 'owner-b', leaseMs: 60_000, limit: 5, includePending: false });
      assert.equal(claimed?.saga.sagaId, req.sagaId);
      await rejectsWith(a.append({ sagaId: req.sagaId, lease: begun.lease, firstSeq: 0, records: [] }), 'SAGA_FENCED');
      assert.ok(claimed);
      await b.append({ sagaId: req.sagaId, lease: claimed.lease, firstSeq: 0, records: [{ type: 'status', status: 'completed' }] });
      assert.equal((await a.load(req.sagaId))?.status, 'completed');
    } finally {
      await a.close();
      await b.close();
      await dropSchema(schema);
    }
  });

  it('reports the server durability setting and never changes it; rejects a bad schema name', async () => {
    const schema = newSchema();
    const log = await openSagaLog(url, { postgres: { schema } });
    try {
      assert.equal(log.kind, 'postgres');
      const setting = await admin.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      assert.match(log.durability, new RegExp(`synchronous_commit=${setting.rows[0]?.synchronous_commit}`));
    } finally {
      await log.close();
      await dropSchema(schema);
    }
    await assert.rejects(PostgresSagaLog.open({ connectionString: url, schema: 'bad"; drop' }), /invalid saga log schema/);
  });

  it('a connection failure is LOG_FAILURE and the message carries no password', async () => {
    const bad = new URL(url);
    bad.password = 'sekret-pass-word';
    bad.port = '1';
    await assert.rejects(PostgresSagaLog.open({ connectionString: bad.toString(), schema: newSchema() }), (err: unknown) => {
      assert.equal((err as { code?: string }).code, 'LOG_FAILURE');
      assert.doesNotMatch((err as Error).message, /sekret/);
      return true;
    });
  });
});
