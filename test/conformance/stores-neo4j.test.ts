// The Neo4j adapter against the graph conformance suite, on the real (embedded-jar) Neo4j started
// by `bash scripts/services.sh up`. The drop case cuts a TCP proxy while the MERGE query is sent.
import { createNeo4jStore } from '../../src/stores/neo4j/graph-store.js';
import type { GraphStore } from '../../src/stores/types.js';
import { rejectionOf } from '../support/conformance/fixtures.js';
import { testNamespace, testServices } from '../support/services.js';
import { graphConformance } from '../support/store-conformance.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';

const url = testServices().neo4jUrl;

graphConformance({
  label: 'neo4j',
  async open(): Promise<GraphStore> {
    const store = createNeo4jStore({ url, timeoutMs: 20_000, ...testNamespace() });
    await store.connect();
    return store;
  },
  unreachable: () => createNeo4jStore({ url: 'bolt://127.0.0.1:1', timeoutMs: 3_000, maxRetryTimeMs: 500 }),
  async stallMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 7687));
    const store = createNeo4jStore({ url: viaProxy(url, proxy), timeoutMs: 1_000, maxRetryTimeMs: 500, ...testNamespace() });
    try {
      const stalled = proxy.stallOn('MERGE (d:'); // with or without a namespace's label prefix;
      const err = await rejectionOf(write(store));
      await stalled;
      return err;
    } finally {
      await proxy.close(); // first: a driver closing a silent connection would wait for it
      await store.close().catch(() => undefined);
    }
  },
  async dropMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 7687));
    const store = createNeo4jStore({ url: viaProxy(url, proxy), timeoutMs: 5_000, maxRetryTimeMs: 500, ...testNamespace() });
    try {
      const cut = proxy.cutOn('MERGE (d:');
      const err = await rejectionOf(write(store));
      await cut;
      return err;
    } finally {
      await store.close().catch(() => undefined);
      await proxy.close();
    }
  },
});
