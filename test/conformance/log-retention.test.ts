// Retention (APEX_SAGA_RETENTION, src/fleet/retention.ts) on the real PostgreSQL log and on the
// SQLite log: a pass deletes ended sagas (completed, compensated) older than the retention, in
// batches, with their records; a stuck, pending or running saga is never pruned however old.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import { Retention, retentionFromEnv, DEFAULT_RETENTION_MS } from '../../src/fleet/retention.js';
import type { SagaLogBackend, SagaStatus } from '../../src/saga/index.js';
import { testServices } from '../support/services.js';
import { beginReq } from '@apex-memory/saga/testing';

const DAY = 24 * 3_600_000;

test('APEX_SAGA_RETENTION: default 7d, durations, 0/off, a bad value names the setting', () => {
  assert.equal(retentionFromEnv({}), DEFAULT_RETENTION_MS);
  assert.equal(DEFAULT_RETENTION_MS, 7 * DAY);
  assert.equal(retentionFromEnv({ APEX_SAGA_RETENTION: '12h' }), 12 * 3_600_000);
  assert.equal(retentionFromEnv({ APEX_SAGA_RETENTION: '90m' }), 90 * 60_000);
  assert.equal(retentionFromEnv({ APEX_SAGA_RETENTION: '0' }), undefined);
  assert.equal(retentionFromEnv({ APEX_SAGA_RETENTION: 'off' }), undefined);
  for (const bad of ['7', '7 days', '-1d', '0d', '99999d', '1e3s']) {
    assert.throws(
      () => retentionFromEnv({ APEX_SAGA_RETENTION: bad }),
      (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'CONFIG_INVALID');
        assert.match((err as Error).message, /APEX_SAGA_RETENTION/);
        return true;
      },
    );
  }
});

/** Sagas in every status; `age` makes the named ones look ended (or last touched) 30 days ago. */
async function seed(log: SagaLogBackend, age: (ids: string[]) => Promise<void>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  const make = async (key: string, status: SagaStatus | 'pending'): Promise<void> => {
    const req = beginReq(status === 'pending' ? { status: 'pending', owner: undefined, leaseMs: undefined } : {});
    const begun = await log.begin(req);
    assert.ok(begun.created);
    if (status !== 'pending' && status !== 'running') {
      await log.append({ sagaId: req.sagaId, lease: begun.lease, firstSeq: 0, records: [{ type: 'status', status }] });
    }
    ids[key] = req.sagaId;
  };
  for (let i = 0; i < 5; i++) await make(`old-completed-${i}`, 'completed');
  await make('old-compensated', 'compensated');
  await make('old-stuck', 'stuck');
  await make('old-running', 'running');
  await make('old-pending', 'pending');
  await age(
    Object.entries(ids)
      .filter(([k]) => k.startsWith('old-'))
      .map(([, v]) => v),
  );
  await make('new-completed', 'completed');
  return ids;
}

async function checkPass(log: SagaLogBackend, ids: Record<string, string>): Promise<void> {
  const retention = new Retention({ log, retentionMs: 7 * DAY, batch: 2 });
  const result = await retention.pass();
  assert.deepEqual(result, { deleted: 6, batches: 4 }, 'six old ended sagas, in batches of 2 (the last one empty)');
  for (const [key, id] of Object.entries(ids)) {
    const kept = (await log.load(id)) !== undefined;
    const shouldGo = key.startsWith('old-completed') || key === 'old-compensated';
    assert.equal(kept, !shouldGo, `${key}: ${shouldGo ? 'pruned' : 'kept'}`);
  }
  assert.equal((await log.load(ids['old-stuck'] ?? ''))?.status, 'stuck', 'a stuck saga is never pruned, however old');
  assert.deepEqual(await retention.pass(), { deleted: 0, batches: 1 }, 'a second pass finds nothing');
}

test('a retention pass on the PostgreSQL log prunes only old ended sagas; stuck ones stay', { timeout: 60_000 }, async () => {
  const url = testServices().databaseUrl;
  const admin = new pg.Pool({ connectionString: url, max: 1 });
  const schema = `apex_saga_ret_${randomBytes(5).toString('hex')}`;
  const log = await PostgresSagaLog.open({ connectionString: url, schema, poolSize: 2 });
  try {
    const ids = await seed(log, async (old) => {
      // Ended 30 days ago: retention reads the end time (ended_at, stamped when a saga ends).
      await admin.query(
        `UPDATE "${schema}".sagas SET updated_at = updated_at - $2::bigint, ended_at = ended_at - $2::bigint WHERE id = ANY($1::text[])`,
        [old, 30 * DAY],
      );
    });
    await checkPass(log, ids);
    const records = await admin.query<{ n: string }>(`SELECT count(*) AS n FROM "${schema}".saga_records WHERE saga_id = ANY($1::text[])`, [
      Object.entries(ids)
        .filter(([k]) => k.startsWith('old-completed'))
        .map(([, v]) => v),
    ]);
    assert.equal(Number(records.rows[0]?.n), 0, 'their records went with them');
  } finally {
    await log.close();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
});

test('a retention pass on the SQLite log prunes only old ended sagas; stuck ones stay', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-retention-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let clock = Date.now() - 30 * DAY;
  const log = new SqliteSagaLog(join(dir, 'log.db'), { now: () => clock });
  try {
    // Sagas begun and ended 30 days ago on the log's clock; then the clock is today.
    const ids = await seed(log, async () => {
      clock = Date.now();
    });
    await checkPass(log, ids);
  } finally {
    await log.close();
  }
});
