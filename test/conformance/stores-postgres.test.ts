// The PostgreSQL adapter against the relational conformance suite, on the real server started by
// `bash scripts/services.sh up`. The drop case cuts a TCP proxy while the chunk INSERT is on the wire.
import { createPostgresStore } from '../../src/stores/postgres.js';
import type { RelationalStore } from '../../src/stores/types.js';
import { rejectionOf } from '../support/conformance/fixtures.js';
import { testServices } from '../support/services.js';
import { relationalConformance } from '../support/store-conformance.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';

const url = testServices().databaseUrl;

relationalConformance({
  label: 'postgres',
  async open(): Promise<RelationalStore> {
    const store = createPostgresStore({ url, timeoutMs: 10_000 });
    await store.connect();
    return store;
  },
  async dropMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    const store = createPostgresStore({ url: viaProxy(url, proxy), timeoutMs: 5_000, poolSize: 1 });
    try {
      await store.connect();
      const cut = proxy.cutOn('INSERT INTO chunks');
      const err = await rejectionOf(write(store));
      await cut;
      return err;
    } finally {
      await store.close().catch(() => undefined);
      await proxy.close();
    }
  },
});
