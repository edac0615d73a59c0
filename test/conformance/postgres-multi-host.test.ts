// Multi-host PostgreSQL URLs with read-write selection (issue 24), on the real test server: the
// document store and the saga log given `first-host,second-host` where one host refuses
// connections, a failover sequence (the chosen host goes away mid-run: calls fail as transient,
// then the next connection selects the other host and the same write succeeds), PgBouncer as the
// second host, and a real read_only_sql_transaction (25006) classified as transient. Two real
// PostgreSQL clusters (a promoted standby) do not run here: a TCP proxy in front of the one test
// server plays the host that goes away.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { isStoreError } from '../../src/stores/errors.js';
import { createPostgresStore } from '../../src/stores/postgres/relational-store.js';
import { PostgresSagaLog } from '../../src/log/postgres/index.js';
import { ctxFor, makeVersion, rejectionOf } from '../support/conformance/fixtures.js';
import { requireServiceVar, testServices } from '../support/services.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const direct = new URL(testServices().databaseUrl);
const REFUSED = '127.0.0.1:1';
const here = `${direct.hostname}:${direct.port || '5432'}`;
/** The test server's URL with `hosts` in place of its host:port. */
const withHosts = (hosts: string, query = ''): string =>
  `postgresql://${direct.username}:${direct.password}@${hosts}${direct.pathname}${query}`;

const admin = new pg.Pool({ connectionString: testServices().databaseUrl, max: 1 });
after(() => admin.end());

async function writeAndCommit(store: ReturnType<typeof createPostgresStore>, docId: string): Promise<void> {
  const v = makeVersion({ docId, body: `multi-host ${docId}`, chunkCount: 2 });
  const ctx = ctxFor(`saga-${docId}`);
  await store.putPending(v, ctx);
  await store.commit(docId, v.contentSha256, ctx);
  assert.equal((await store.getDocument(docId))?.ingestionStatus, 'committed');
}

void describe('PostgreSQL multi-host URLs (real server)', () => {
  const prefix = `mh-${randomUUID().slice(0, 8)}-`;
  after(() => admin.query('DELETE FROM documents WHERE id LIKE $1', [`${prefix}%`]).then(() => undefined));

  void it('document store: a refused first host is skipped, writes go to the read-write one', async () => {
    const store = createPostgresStore({ url: withHosts(`${REFUSED},${here}`, '?target_session_attrs=read-write'), timeoutMs: 5_000 });
    try {
      await store.connect();
      await writeAndCommit(store, `${prefix}doc`);
      const h = await store.health();
      assert.equal(h.ok, true, h.detail);
      assert.match(h.detail, /127\.0\.0\.1:1,/);
      assert.ok(!h.detail.includes('@') && !h.detail.includes(`:${direct.password}`), `no credentials in health: ${h.detail}`);
    } finally {
      await store.close();
    }
  });

  void it('failover: the chosen host goes away, calls fail as transient, then the same write lands on the other host', async () => {
    const proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const store = createPostgresStore({ url: withHosts(`127.0.0.1:${proxy.port},${here}`), timeoutMs: 3_000, poolSize: 2 });
    try {
      await store.connect();
      await writeAndCommit(store, `${prefix}before`);
      proxy.cutNow(); // the "primary" is gone: its connections die, new ones are refused
      const v = makeVersion({ docId: `${prefix}after`, body: 'after failover', chunkCount: 1 });
      const ctx = ctxFor(`saga-${prefix}after`);
      let attempts = 0;
      for (;;) {
        attempts += 1;
        try {
          await store.putPending(v, ctx);
          break;
        } catch (err) {
          assert.ok(isStoreError(err) && err.retryable, `attempt ${attempts}: ${String(err)}`);
          assert.ok(attempts < 5, 'the other host was not selected');
        }
      }
      await store.commit(v.docId, v.contentSha256, ctx);
      assert.equal((await store.getDocument(v.docId))?.ingestionStatus, 'committed');
    } finally {
      await store.close();
      await proxy.close();
    }
  });

  void it('document store: PgBouncer as the second host (transaction mode)', async () => {
    const bouncer = new URL(requireServiceVar('APEX_TEST_PGBOUNCER_URL'));
    const store = createPostgresStore({
      url: withHosts(`${REFUSED},${bouncer.hostname}:${bouncer.port}`),
      timeoutMs: 5_000,
      pooler: 'transaction',
    });
    try {
      await store.connect();
      await writeAndCommit(store, `${prefix}bouncer`);
    } finally {
      await store.close();
    }
  });

  void it('a real read_only_sql_transaction (25006) is a transient store error and writes nothing', async () => {
    const readOnly = withHosts(here, `?options=${encodeURIComponent('-c default_transaction_read_only=on')}`);
    const store = createPostgresStore({ url: readOnly, timeoutMs: 5_000 });
    try {
      const v = makeVersion({ docId: `${prefix}ro`, body: 'read-only', chunkCount: 1 });
      const err = await rejectionOf(store.putPending(v, ctxFor('saga-ro')));
      assert.ok(isStoreError(err), String(err));
      assert.equal(err.code, 'STORE_TRANSIENT', err.message);
      assert.match(err.message, /25006/);
      assert.equal(await store.getDocument(v.docId), undefined);
    } finally {
      await store.close();
    }
  });

  void it('saga log: opens, begins and survives the loss of its chosen host on a multi-host URL', async () => {
    const proxy = await startTcpProxy(direct.hostname, Number(direct.port || 5432));
    const schema = `apex_saga_mh_${randomBytes(6).toString('hex')}`;
    const log = await PostgresSagaLog.open({
      connectionString: withHosts(`${REFUSED},127.0.0.1:${proxy.port},${here}`),
      schema,
      poolSize: 2,
      connection: { connectTimeoutMs: 2_000 },
    });
    try {
      const begin = (sagaId: string) =>
        log.begin({ sagaId, name: 'multi-host', version: 1, input: { n: 1 }, status: 'running', owner: 'w1', leaseMs: 30_000 });
      await begin(`${prefix}s1`);
      proxy.cutNow();
      let attempts = 0;
      for (;;) {
        attempts += 1;
        try {
          await begin(`${prefix}s2`);
          break;
        } catch (err) {
          assert.equal((err as { retryable?: unknown }).retryable, true, String(err));
          assert.ok(attempts < 5, 'the log did not select the other host');
        }
      }
      assert.equal((await log.load(`${prefix}s1`))?.sagaId, `${prefix}s1`);
      assert.equal((await log.load(`${prefix}s2`))?.sagaId, `${prefix}s2`);
    } finally {
      await log.close();
      await proxy.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  });
});
