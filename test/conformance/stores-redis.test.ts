// The Redis adapter against the cache conformance suite, on the real server started by
// `bash scripts/services.sh up`. The drop case cuts a TCP proxy while the SET is on the wire.
import { createRedisStore } from '../../src/stores/redis/cache-store.js';
import type { CacheStore } from '../../src/stores/types.js';
import { rejectionOf } from '../support/conformance/fixtures.js';
import { testNamespace, testServices } from '../support/services.js';
import { cacheConformance } from '../support/store-conformance.js';
import { startTcpProxy, viaProxy } from '../support/tcp-proxy.js';

const url = testServices().redisUrl;

cacheConformance({
  label: 'redis',
  async open(): Promise<CacheStore> {
    const store = createRedisStore({ url, timeoutMs: 10_000, ...testNamespace() });
    await store.connect();
    return store;
  },
  unreachable: () => createRedisStore({ url: 'redis://127.0.0.1:1', timeoutMs: 3_000 }),
  async stallMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const store = createRedisStore({ url: viaProxy(url, proxy), timeoutMs: 1_000, ...testNamespace() });
    try {
      await store.connect();
      const stalled = proxy.stallOn('}:doc');
      const err = await rejectionOf(write(store));
      await stalled;
      return err;
    } finally {
      await proxy.close();
      await store.close();
    }
  },
  async dropMidCall(write): Promise<unknown> {
    const target = new URL(url);
    const proxy = await startTcpProxy(target.hostname, Number(target.port || 6379));
    const store = createRedisStore({ url: viaProxy(url, proxy), timeoutMs: 5_000, ...testNamespace() });
    try {
      await store.connect();
      const cut = proxy.cutOn('}:doc');
      const err = await rejectionOf(write(store));
      await cut;
      return err;
    } finally {
      await store.close();
      await proxy.close();
    }
  },
});
