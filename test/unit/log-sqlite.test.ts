// The SQLite SagaLog against the shared conformance suite (temp file, injected clock), plus what
// only a file can show: durability settings and a second connection on the same file.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteSagaLog } from '../../src/log/sqlite/index.js';
import { isPostgresUrl, openSagaLog } from '../../src/log/open.js';
import { sagaLogConformance, beginReq, rejectsWith } from '@apex-memory/saga/testing';

const dir = mkdtempSync(join(tmpdir(), 'apex-log-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const nextFile = (): string => join(dir, `log-${files++}.db`);

let now = 1_700_000_000_000;
const advance = (ms: number): void => {
  now += ms;
};
sagaLogConformance('sqlite', async () => new SqliteSagaLog(nextFile(), { now: () => now }), {
  test: { describe, it },
  advance,
  shortLeaseMs: 1_000,
});
sagaLogConformance('sqlite (worker thread)', async () => new SqliteSagaLog(nextFile(), { now: () => now, thread: true }), {
  test: { describe, it },
  advance,
  shortLeaseMs: 1_000,
});

describe('SqliteSagaLog specifics', () => {
  it('uses WAL and synchronous=FULL unless NORMAL is named, and says so', async () => {
    const file = nextFile();
    const full = new SqliteSagaLog(file);
    assert.match(full.durability, /synchronous=FULL/);
    await full.close();
    const normal = new SqliteSagaLog(file, { synchronous: 'NORMAL' });
    assert.match(normal.durability, /synchronous=NORMAL/);
    await normal.close();
    const db = new Database(file, { readonly: true });
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
    assert.throws(() => new SqliteSagaLog(file, { synchronous: 'OFF' as 'FULL' }), /synchronous/);
  });

  it('a second instance on the same file sees committed records and fences the first', async () => {
    const file = nextFile();
    const first = new SqliteSagaLog(file);
    const second = new SqliteSagaLog(file, { thread: true });
    try {
      const req = beginReq({ leaseMs: 1 });
      const begun = await first.begin(req);
      assert.ok(begun.created);
      const rec = { type: 'step_started' as const, step: 'a', attempt: 1 };
      await first.append({ sagaId: req.sagaId, lease: begun.lease, firstSeq: 0, records: [rec] });
      assert.deepEqual((await second.load(req.sagaId))?.records, [rec]);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const [claimed] = await second.claim({ owner: 'owner-b', leaseMs: 60_000, limit: 1, includePending: false });
      assert.equal(claimed?.saga.sagaId, req.sagaId);
      await rejectsWith(first.append({ sagaId: req.sagaId, lease: begun.lease, firstSeq: 1, records: [rec] }), 'SAGA_FENCED');
      const again = await first.begin(req);
      assert.equal(again.created, false);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('openSagaLog picks memory for "memory" and SQLite for a path', async () => {
    const mem = await openSagaLog('memory');
    assert.equal(mem.kind, 'memory');
    await mem.close();
    const file = nextFile();
    const lite = await openSagaLog(file, { sqlite: { synchronous: 'NORMAL' } });
    assert.equal(lite.kind, 'sqlite');
    assert.match(lite.durability, /NORMAL/);
    await lite.close();
    assert.equal(isPostgresUrl('postgres://u@h/db'), true);
    assert.equal(isPostgresUrl('postgresql://u@h:5432/db'), true);
    assert.equal(isPostgresUrl('./postgres/saga-log.db'), false);
    assert.equal(isPostgresUrl('memory'), false);
  });

  it('a failing open reports LOG_FAILURE without crashing', () => {
    assert.throws(
      () => new SqliteSagaLog(join(dir, 'no-such-dir', 'x.db')),
      (err: unknown) => (err as { code?: string }).code === 'LOG_FAILURE',
    );
  });
});
