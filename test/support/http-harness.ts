// An HTTP API around an embedded app (PGlite + SQLite stand-ins in a temp dir) with fault
// injection on every store, for the API, contract and browser tests. Requests go through
// hono's in-process fetch unless a test starts a real listener.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import type { ApiOptions } from '../../src/http/context.js';
import { startHttpServer, type RunningServer } from '../../src/http/listen.js';
import { createHttpApi, type HttpApi } from '../../src/http/server.js';
import { withFaults, type FaultControl } from '../../src/stores/faults.js';
import type { StoreName, StoreSet } from '../../src/stores/types.js';
import { allSagas } from './log-pages.js';

export interface HttpHarness {
  app: App;
  api: HttpApi;
  raw: StoreSet;
  faults: Record<StoreName, FaultControl>;
  dir: string;
  /** Set when opened with `listen`: the real server (http://127.0.0.1:<port>). */
  server?: RunningServer;
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Everything every store and the saga log hold, for "nothing was written" checks. */
  snapshot(): Promise<string>;
  close(): Promise<void>;
}

export async function openHttpHarness(
  opts: Partial<ApiOptions> = {},
  appOpts: { leaseMs?: number; listen?: boolean } = {},
): Promise<HttpHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'apex-http-'));
  const faults = {} as Record<StoreName, FaultControl>;
  let raw: StoreSet | undefined;
  const app = await openApp({
    dataDir: dir,
    env: {},
    embedder: new HashingEmbedder(),
    leaseMs: appOpts.leaseMs ?? 30_000,
    wrapStores: (stores) => {
      raw = stores;
      const wrap = <K extends StoreName>(k: K): StoreSet[K] => {
        const w = withFaults(stores[k], {});
        faults[k] = w.faults;
        return w.store;
      };
      return { postgres: wrap('postgres'), neo4j: wrap('neo4j'), qdrant: wrap('qdrant'), redis: wrap('redis') };
    },
  });
  const server = appOpts.listen ? await startHttpServer(app, opts, { host: '127.0.0.1', port: 0, graceMs: 2_000 }) : undefined;
  const api = server ? server.api : createHttpApi(app, opts);
  const r = raw as StoreSet;
  return {
    app,
    api,
    raw: r,
    faults,
    dir,
    ...(server ? { server } : {}),
    request: (path, init) => (server ? fetch(`${server.url}${path}`, init) : Promise.resolve(api.hono.request(path, init))),
    snapshot: async () => {
      const docs = await r.postgres.listDocuments(null, 10_000);
      const sagas = await allSagas(app.engine.log);
      return JSON.stringify({
        docs: docs.map((d) => [d.id, d.ingestionStatus, d.contentSha256]),
        neo4j: await r.neo4j.listDocIds(null, 10_000),
        qdrant: await r.qdrant.listDocIds(null, 10_000),
        redis: await r.redis.listDocIds(null, 10_000),
        sagas: sagas.map((s) => [s.sagaId, s.status]),
      });
    },
    close: async () => {
      await server?.stop();
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function jsonInit(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}
