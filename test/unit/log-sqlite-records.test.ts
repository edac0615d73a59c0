// The SQLite log's record storage (schema 4, times and operator indexes in schema 5): the compact record encoding round-trips every record
// shape exactly (known shapes as tuples, anything else as its JSON object), and a schema 3 file
// (one row per record) is migrated in place (3 -> 4 -> 5) with its records intact.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { decodeRecords, encodeRecords } from '@apex-memory/saga/log-kit';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import type { LogRecord } from '../../src/saga/index.js';

const dir = mkdtempSync(join(tmpdir(), 'apex-log-records-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const err = { code: 'STEP_TIMEOUT', message: 'step "x" timed out after 5 ms', retryable: true };
const RECORDS: LogRecord[] = [
  { type: 'step_started', step: 'neo4j_write', attempt: 1 },
  { type: 'step_started', step: 'a', attempt: 3, since: 1_700_000_000_123 },
  { type: 'step_succeeded', step: 'a', output: null },
  { type: 'step_succeeded', step: 'b', output: { nested: [1, 'two', { three: true }], emoji: '\u{1F600}', nul: '\u0000' } },
  { type: 'step_succeeded', step: 'c', output: [0, -1.5, 2 ** 53 - 1] },
  { type: 'step_failed', step: 'a', attempt: 2, error: err, willRetry: true },
  { type: 'step_failed', step: 'a', attempt: 2, error: { code: 'X', message: 'm' }, willRetry: true, retryInMs: 30_000 },
  { type: 'compensation_started', step: 'a', attempt: 1 },
  { type: 'compensation_succeeded', step: 'a' },
  { type: 'compensation_failed', step: 'a', attempt: 4, error: err, willRetry: false },
  { type: 'status', status: 'completed' },
  { type: 'status', status: 'stuck', reason: { code: 'RECOVERY_LIMIT', message: 'why' } },
];

describe('SQLite record encoding', () => {
  it('round-trips every record shape exactly, in order', () => {
    const text = encodeRecords(RECORDS, 'test');
    assert.deepEqual(decodeRecords(text), RECORDS);
    assert.ok(text.length < JSON.stringify(RECORDS).length * 0.7, `compact: ${text.length} vs ${JSON.stringify(RECORDS).length}`);
    assert.ok(!text.includes('"type"'), 'known shapes are stored as tuples');
  });

  it('keeps a record of an unknown shape as its JSON object (extra keys, unusual error info)', () => {
    const odd = [
      { type: 'step_started', step: 'a', attempt: 1, extra: 'kept' },
      { type: 'step_failed', step: 'a', attempt: 1, error: { code: 'X', message: 'm', detail: { k: 1 } }, willRetry: false },
      { type: 'custom', anything: [1, 2] },
    ] as unknown as LogRecord[];
    assert.deepEqual(decodeRecords(encodeRecords(odd, 'test')), odd);
  });

  it('drops undefined fields as JSON does, and rejects what JSON cannot store', () => {
    const rec = { type: 'step_started', step: 'a', attempt: 1, since: undefined } as LogRecord;
    assert.deepEqual(decodeRecords(encodeRecords([rec], 'test')), [{ type: 'step_started', step: 'a', attempt: 1 }]);
    const big = { type: 'step_succeeded', step: 'a', output: 10n } as unknown as LogRecord;
    assert.throws(
      () => encodeRecords([big], 'saga s record'),
      (e: unknown) => (e as { code?: string }).code === 'SAGA_INPUT_INVALID',
    );
  });
});

describe('SQLite log schema 3 -> 5', () => {
  it('migrates a schema 3 file in place: every record of every saga is still there, appends go on', async () => {
    const file = join(dir, 'v3.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE sagas (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, name TEXT NOT NULL, version INTEGER NOT NULL,
        status TEXT NOT NULL, input TEXT NOT NULL, owner TEXT, fencing_token INTEGER NOT NULL, lease_expires_at INTEGER,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, reason TEXT, meta TEXT, deadline_at INTEGER);
      CREATE INDEX sagas_claimable ON sagas (status, lease_expires_at) WHERE status NOT IN ('completed', 'compensated');
      CREATE TABLE saga_records (saga_rid INTEGER NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, record TEXT NOT NULL,
        PRIMARY KEY (saga_rid, seq)) WITHOUT ROWID;`);
    const insSaga =
      db.prepare(`INSERT INTO sagas (id, name, version, status, input, owner, fencing_token, lease_expires_at, created_at, updated_at)
      VALUES (?, 'n', 1, 'running', '{"x":1}', 'o', 1, 9999999999999, 1, 1)`);
    const insRec = db.prepare('INSERT INTO saga_records (saga_rid, seq, type, record) VALUES (?, ?, ?, ?)');
    const old = { s1: RECORDS.slice(0, 4), s2: RECORDS.slice(4, 8) };
    for (const [id, records] of Object.entries(old)) {
      const rid = Number(insSaga.run(id).lastInsertRowid);
      records.forEach((r, seq) => insRec.run(rid, seq, r.type, JSON.stringify(r)));
    }
    db.pragma('user_version = 3');
    db.close();

    const log = new SqliteSagaLog(file);
    for (const [id, records] of Object.entries(old)) assert.deepEqual((await log.load(id))?.records, records);
    assert.deepEqual((await log.load('s2'))?.recordTimes, [null, null, null, null], 'records older than the times have none');
    assert.deepEqual(
      (await log.list({ failedStep: 'a' })).sagas.map((s) => s.sagaId),
      ['s2'],
      'old failures are indexed too',
    );
    await log.append({
      sagaId: 's1',
      lease: { owner: 'o', fencingToken: 1 },
      firstSeq: 4,
      records: [{ type: 'status', status: 'completed' }],
    });
    await assert.rejects(
      log.append({ sagaId: 's2', lease: { owner: 'o', fencingToken: 1 }, firstSeq: 3, records: [{ type: 'status', status: 'completed' }] }),
      /next seq is 4/,
    );
    const s1 = await log.load('s1');
    assert.equal(s1?.status, 'completed');
    assert.deepEqual(s1?.records, [...RECORDS.slice(0, 4), { type: 'status', status: 'completed' }]);
    const stamped = s1?.recordTimes[4];
    assert.equal(typeof stamped, 'number', 'a new record has its time');
    assert.equal(s1?.endedAt, stamped);
    assert.equal(s1?.startedAt, null, 'its first record predates the times');
    await log.close();
    const after5 = new Database(file, { readonly: true });
    assert.equal(after5.pragma('user_version', { simple: true }), 5);
    after5.close();
    const reopened = new SqliteSagaLog(file);
    assert.equal((await reopened.load('s1'))?.status, 'completed', 'a schema 5 file opens as it is');
    await reopened.close();
  });
});
