// Puts the API on a socket and takes it off gracefully: `stop()` (SIGTERM) refuses new requests
// (503 HTTP_SHUTTING_DOWN, readiness false), stops accepting connections, lets requests in flight
// finish within the grace period, then closes what is left. The caller closes the app afterwards
// (the engine releases the leases of sagas still running, so a worker resumes them).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { assertSafeBind } from './auth.js';
import { answerClientErrors } from './client-error.js';
import type { ApiApp, ApiOptions } from './context.js';
import { createHttpApi, type HttpApi } from './server.js';

export interface ListenOptions {
  host: string;
  port: number;
  /** Longest wait for requests in flight after stop(), ms. */
  graceMs: number;
  log?: (line: string) => void;
}

export interface RunningServer {
  api: HttpApi;
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startHttpServer(app: ApiApp, api: Partial<ApiOptions>, listen: ListenOptions): Promise<RunningServer> {
  assertSafeBind(listen.host, api.token);
  const http = createHttpApi(app, { ...api, bindHost: listen.host }, listen.log);
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const server = createAdaptorServer({ fetch: (req: Request) => http.hono.fetch(req), hostname: listen.host }) as Server;
  // Counted at the socket level: the adapter may call fetch only once the body has arrived, and a
  // request whose body is still arriving is in flight too.
  server.on('request', (_req, res) => {
    inFlight++;
    res.on('close', () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    });
  });
  answerClientErrors(server);
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      http.ctx.state.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      if (inFlight > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => (idle = r)), new Promise<void>((r) => (timer = setTimeout(r, listen.graceMs)))]);
        clearTimeout(timer);
      }
      server.closeAllConnections();
      await closed;
    })());
  return { api: http, url: `http://${host}:${port}`, port, stop };
}
