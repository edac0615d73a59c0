// The Qdrant Edge front as the suites see it. The front itself (services/qdrant-edge, started by
// scripts/services.sh) is Qdrant's own storage engine behind a small REST server; this module puts a
// checking proxy in the test process in front of it. The proxy validates every request and response
// against Qdrant's OpenAPI document (when it is available), records what passed through, and can
// drop or stall one request, so fault tests keep those tools while the data lives in real Qdrant
// segments. Test files run one at a time; each starts from an empty front (wipeQdrantFront).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { optionalQdrantContract } from './qdrant-contract.js';
import type { QdrantContract } from './qdrant-contract.js';
import { requireServiceVar } from './services.js';

export interface QdrantRequestRecord {
  method: string;
  template: string;
  collection: string;
  query: Record<string, string>;
}

/** What the suites need from a Qdrant endpoint under test: the front's proxy or the stub. */
export interface QdrantUnderTest {
  url: string;
  /** False when Qdrant's OpenAPI document is missing: then nothing is validated. */
  contractChecked: boolean;
  violations(): string[];
  requests(): QdrantRequestRecord[];
  /** Destroys the socket of the next request whose template ends with `suffix`, before forwarding it. */
  dropNext(method: string, suffix: string): Promise<void>;
  /** Never forwards (nor answers) the next request whose template ends with `suffix`. */
  stallNext(method: string, suffix: string): Promise<void>;
  close(): Promise<void>;
}

/** The front's URL: APEX_TEST_QDRANT_URL, or .services/env (written by services.sh up). */
export function qdrantFrontUrl(): string {
  return requireServiceVar('APEX_TEST_QDRANT_URL');
}

/** Deletes every collection on the front (or on `url`), so a test file starts from nothing; their
 * aliases go with them (the front, like Qdrant, drops a collection's aliases with it). */
export async function wipeQdrantFront(url: string = qdrantFrontUrl()): Promise<void> {
  const res = await fetch(`${url}/collections`);
  if (!res.ok) throw new Error(`GET ${url}/collections answered HTTP ${res.status}`);
  const body = (await res.json()) as { result: { collections: Array<{ name: string }> } };
  for (const { name } of body.result.collections) {
    const del = await fetch(`${url}/collections/${encodeURIComponent(name)}`, { method: 'DELETE' });
    if (!del.ok) throw new Error(`DELETE collection ${name} answered HTTP ${del.status}`);
  }
}

const ROUTE =
  /^\/collections\/([^/]+)(\/exists|\/index|\/aliases|\/points|\/points\/delete|\/points\/scroll|\/points\/query|\/points\/count|\/points\/[^/]+)?$/;

function templateOf(pathname: string, method: string): { template: string; collection: string } | undefined {
  if (pathname === '/collections' || pathname === '/' || pathname === '/aliases') return { template: pathname, collection: '' };
  // POST /collections/aliases (alias actions) is not a collection named "aliases"; PUT/DELETE/GET would be.
  if (pathname === '/collections/aliases' && method === 'POST') return { template: pathname, collection: '' };
  const m = ROUTE.exec(pathname);
  if (!m?.[1]) return undefined;
  const tail = m[2] ?? '';
  const known = ['', '/exists', '/index', '/aliases', '/points', '/points/delete', '/points/scroll', '/points/query', '/points/count'];
  return {
    template: `/collections/{collection_name}${known.includes(tail) ? tail : '/points/{id}'}`,
    collection: decodeURIComponent(m[1]),
  };
}

function check(what: () => string[]): string[] {
  try {
    return what();
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

/** A checking proxy to the Qdrant Edge front at `target` (default: the test services' front). */
export async function startQdrantFront(
  opts: { target?: string; wipe?: boolean; contract?: QdrantContract | undefined } = {},
): Promise<QdrantUnderTest> {
  const target = new URL(opts.target ?? qdrantFrontUrl());
  const contract = 'contract' in opts ? opts.contract : optionalQdrantContract();
  if (opts.wipe !== false) await wipeQdrantFront(target.origin);
  const violations: string[] = [];
  const log: QdrantRequestRecord[] = [];
  const faults: Array<{ method: string; suffix: string; done: () => void; stall: boolean }> = [];
  const agent = new http.Agent({ keepAlive: true });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://proxy');
      const route = templateOf(url.pathname, method);
      if (!route) {
        violations.push(`the Qdrant front proxy got a request it does not route: ${method} ${url.pathname}`);
      } else {
        log.push({ method, template: route.template, collection: route.collection, query: Object.fromEntries(url.searchParams.entries()) });
        const fault = faults.findIndex((f) => f.method === method && route.template.endsWith(f.suffix));
        if (fault >= 0) {
          const [f] = faults.splice(fault, 1);
          // A stalled request keeps its socket open unanswered; close() destroys it.
          if (!f?.stall) req.socket.destroy();
          f?.done();
          return;
        }
      }
      const raw = Buffer.concat(chunks);
      if (route && contract) {
        let body: unknown;
        try {
          body = raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as unknown) : undefined;
        } catch {
          violations.push(`request ${method} ${route.template}: body is not JSON`);
        }
        violations.push(...check(() => contract.checkRequest(method, route.template, body)));
      }
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path: url.pathname + url.search,
          agent,
          headers: { 'content-type': 'application/json', 'content-length': String(raw.length) },
        },
        (up) => {
          const parts: Buffer[] = [];
          up.on('data', (c: Buffer) => parts.push(c));
          up.on('end', () => {
            const answer = Buffer.concat(parts);
            if (route && contract) {
              let body: unknown;
              try {
                body = JSON.parse(answer.toString('utf8')) as unknown;
              } catch {
                violations.push(`response to ${method} ${route.template}: body is not JSON`);
              }
              violations.push(...check(() => contract.checkResponse(method, route.template, up.statusCode ?? 0, body)));
            }
            res.writeHead(up.statusCode ?? 502, { 'content-type': up.headers['content-type'] ?? 'application/json' });
            res.end(answer);
          });
        },
      );
      // The front being down looks to the client like a server that hangs up: a network error.
      upstream.on('error', () => req.socket.destroy());
      upstream.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    contractChecked: contract !== undefined,
    violations: () => [...violations],
    requests: () => [...log],
    dropNext: (method, suffix) => new Promise<void>((resolve) => faults.push({ method, suffix, done: resolve, stall: false })),
    stallNext: (method, suffix) => new Promise<void>((resolve) => faults.push({ method, suffix, done: resolve, stall: true })),
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
