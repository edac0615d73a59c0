// The PostgreSQL adapter against the relational conformance suite, on the real server started by
// `bash scripts/services.sh up`. The drop case cuts a TCP proxy while putPending's call (one statement,
// apex_put_pending: the document row, its version and its chunks) is on the wire.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { isStoreError } from '../../src/stores/errors.js';
import { createPostgresStore } from '../../src/stores/postgres/relational-store.js';
import type { RelationalStore } from '../../src/stores/types.js';
import { rejectionOf } from '../support/conformance/fixtures.js';
import { testNamespace, testServices } from '../support/services.js';
import { namespaceSchema } from '../../src/config/namespace.js';

const ns = testNamespace().namespace;
const schema = ns !== undefined ? { schema: namespaceSchema(ns) } : {};
import { relationalConformance } from '../support/store-conformance.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';

const url = testServices().databaseUrl;

relationalConformance({
  label: 'postgres',
  async open(): Promise<RelationalStore> {
    const store = createPostgresStore({ url, timeoutMs: 10_000, ...schema });
    await store.connect();
    return store;
  },
  unreachable: () => createPostgresStore({ url: 'postgres://apex:secret@127.0.0.1:1/none', timeoutMs: 3_000 }),
  async stallMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const store = createPostgresStore({ url: viaProxy(url, proxy), timeoutMs: 1_000, poolSize: 1, ...schema });
    try {
      await store.connect();
      const stalled = proxy.stallOn('apex_put_pending');
      const err = await rejectionOf(write(store));
      await stalled;
      return err;
    } finally {
      await store.close().catch(() => undefined);
      await proxy.close();
    }
  },
  async dropMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const store = createPostgresStore({ url: viaProxy(url, proxy), timeoutMs: 5_000, poolSize: 1, ...schema });
    try {
      await store.connect();
      const cut = proxy.cutOn('apex_put_pending');
      const err = await rejectionOf(write(store));
      await cut;
      return err;
    } finally {
      await store.close().catch(() => undefined);
      await proxy.close();
    }
  },
});

void it('a wrong password is a permanent error whose message does not contain the password', async () => {
  const wrong = new URL(url);
  wrong.password = 'not-the-password-7f3a';
  const store = createPostgresStore({ url: wrong.toString(), timeoutMs: 5_000 });
  try {
    const err = await rejectionOf(store.connect());
    assert.ok(isStoreError(err) && err.code === 'STORE_PERMANENT', String(err));
    assert.doesNotMatch(`${err.message} ${String(err.stack)}`, /not-the-password-7f3a/);
    const health = await store.health();
    assert.equal(health.ok, false);
    assert.doesNotMatch(health.detail, /not-the-password-7f3a/);
  } finally {
    await store.close().catch(() => undefined);
  }
});

void it('concurrent connects create the schema once, without errors', async () => {
  const stores = [0, 1, 2].map(() => createPostgresStore({ url, timeoutMs: 10_000 }));
  try {
    await Promise.all(stores.map((s) => s.connect()));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});
