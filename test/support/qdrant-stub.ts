// The Qdrant contract stub: an in-memory HTTP server on 127.0.0.1 that answers the endpoints the
// Qdrant adapter uses. It is NOT Qdrant (the suites run against the Qdrant Edge front for that);
// it stays for unit tests that need to drop or stall one request without a server. Every request
// it receives and every response it sends is validated against Qdrant's OpenAPI document when that
// document is available (contractChecked), and every mismatch is recorded in violations().
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { optionalQdrantContract } from './qdrant-contract.js';
import type { QdrantContract } from './qdrant-contract.js';
import { StubCollection, StubUnsupported, selectPayload } from './qdrant-stub-collection.js';
import type { PointId } from './qdrant-stub-collection.js';
import type { QdrantRequestRecord, QdrantUnderTest } from './qdrant-front.js';

export type StubRequestRecord = QdrantRequestRecord;
/** Same surface as the Edge front's checking proxy; dropNext/stallNext never apply the request. */
export type QdrantContractStub = QdrantUnderTest;

interface Reply {
  status: number;
  body: unknown;
}

type Body = Record<string, unknown>;

const ROUTE = /^\/collections\/([^/]+)(\/exists|\/index|\/points|\/points\/delete|\/points\/scroll|\/points\/query|\/points\/count)?$/;

const ok = (result: unknown): Reply => ({ status: 200, body: { result, status: 'ok', time: 0.0001 } });
const fail = (status: number, error: string): Reply => ({ status, body: { status: { error }, time: 0.0001, result: null } });

/** `contract` null: run without contract checks (as when the OpenAPI document is missing). */
export async function startQdrantContractStub(given?: QdrantContract | null): Promise<QdrantContractStub> {
  const contract = given === null ? undefined : (given ?? optionalQdrantContract());
  const collections = new Map<string, StubCollection>();
  const violations: string[] = [];
  const log: StubRequestRecord[] = [];
  const drops: Array<{ method: string; suffix: string; done: () => void; stall: boolean }> = [];

  const updateResult = (operationId: number, wait: boolean): Reply =>
    ok({ operation_id: operationId, status: wait ? 'completed' : 'acknowledged' });

  const handle = (method: string, template: string, name: string, query: Record<string, string>, body: Body): Reply => {
    const existing = collections.get(name);
    const wait = query.wait === 'true';
    if (template === '/collections/{collection_name}/exists') return ok({ exists: existing !== undefined });
    if (template === '/collections/{collection_name}' && method === 'PUT') {
      if (existing) return fail(409, `Wrong input: Collection \`${name}\` already exists!`);
      const vectors = body.vectors as { size?: unknown; distance?: unknown } | undefined;
      if (typeof vectors?.size !== 'number' || typeof vectors.distance !== 'string')
        throw new StubUnsupported('the Qdrant contract stub only implements one unnamed dense vector per point');
      collections.set(name, new StubCollection(vectors.size, vectors.distance));
      return ok(true);
    }
    if (!existing) return fail(404, `Not found: Collection \`${name}\` doesn't exist!`);
    switch (template) {
      case '/collections/{collection_name}/index':
        existing.indexedFields.add(String(body.field_name));
        return updateResult(0, wait);
      case '/collections/{collection_name}/points': {
        if (!Array.isArray(body.points)) throw new StubUnsupported('the Qdrant contract stub only implements upsert with a `points` list');
        const points = body.points as Array<{ id: PointId; vector: number[]; payload?: Body | null }>;
        if (points.some((p) => !Array.isArray(p.vector)))
          throw new StubUnsupported('the Qdrant contract stub only implements dense unnamed vectors');
        const wrong = existing.dimensionError(points.map((p) => p.vector));
        return wrong ? fail(400, wrong) : updateResult(existing.upsert(points), wait);
      }
      case '/collections/{collection_name}/points/delete':
        return updateResult(existing.deleteWhere(body.filter as Body | undefined, body.points as PointId[] | undefined), wait);
      case '/collections/{collection_name}/points/count':
        return ok({ count: existing.sorted(body.filter as Body | undefined).length });
      case '/collections/{collection_name}/points/scroll': {
        const limit = typeof body.limit === 'number' ? body.limit : 10;
        let all = existing.sorted(body.filter as Body | undefined);
        if (body.offset !== undefined && body.offset !== null) {
          const start = all.findIndex((p) => String(p.id) === String(body.offset));
          all = start < 0 ? [] : all.slice(start);
        }
        const page = all.slice(0, limit).map((p) => ({
          id: p.id,
          ...(body.with_payload === undefined ? { payload: p.payload } : { payload: selectPayload(p.payload, body.with_payload) ?? null }),
          ...(body.with_vector === true ? { vector: p.vector } : {}),
        }));
        return ok({ points: page, next_page_offset: all[limit]?.id ?? null });
      }
      case '/collections/{collection_name}/points/query': {
        const raw = body.query as unknown;
        const vector = Array.isArray(raw) ? raw : (raw as { nearest?: unknown } | undefined)?.nearest;
        if (!Array.isArray(vector) || !vector.every((x) => typeof x === 'number'))
          throw new StubUnsupported('the Qdrant contract stub only implements nearest-vector queries');
        const wrong = existing.dimensionError([vector]);
        if (wrong) return fail(400, wrong);
        const limit = typeof body.limit === 'number' ? body.limit : 10;
        const offset = typeof body.offset === 'number' ? body.offset : 0;
        const hits = existing
          .score(vector, body.filter as Body | undefined)
          .slice(offset, offset + limit)
          .map(({ point, score }) => ({
            id: point.id,
            version: point.version,
            score,
            payload: selectPayload(point.payload, body.with_payload) ?? null,
          }));
        return ok({ points: hits });
      }
      default:
        throw new StubUnsupported(`the Qdrant contract stub does not implement ${method} ${template}`);
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://stub');
      const match = ROUTE.exec(url.pathname);
      const template = `/collections/{collection_name}${match?.[2] ?? ''}`;
      const send = (reply: Reply, validate: boolean): void => {
        if (validate && contract) violations.push(...contract.checkResponse(method, template, reply.status, reply.body));
        res.writeHead(reply.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(reply.body));
      };
      if (!match?.[1]) {
        violations.push(`the Qdrant contract stub got a request it does not route: ${method} ${url.pathname}`);
        send(fail(404, `no route ${method} ${url.pathname}`), false);
        return;
      }
      const name = decodeURIComponent(match[1]);
      const query = Object.fromEntries(url.searchParams.entries());
      log.push({ method, template, collection: name, query });
      const drop = drops.findIndex((d) => d.method === method && template.endsWith(d.suffix));
      if (drop >= 0) {
        const [d] = drops.splice(drop, 1);
        // A stalled request keeps its socket open unanswered; close() destroys it.
        if (!d?.stall) req.socket.destroy();
        d?.done();
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: Body = {};
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw) as Body;
        } catch {
          violations.push(`request ${method} ${template}: body is not JSON`);
          send(fail(400, 'Format error in JSON body'), true);
          return;
        }
      }
      const requestErrors = contract ? contract.checkRequest(method, template, raw.length > 0 ? body : undefined) : [];
      if (requestErrors.length > 0) {
        violations.push(...requestErrors);
        send(fail(400, `Format error in JSON body: ${requestErrors[0] ?? ''}`), true);
        return;
      }
      try {
        send(handle(method, template, name, query, body), true);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        // Unsupported-by-the-stub is a test-fixture gap, not a wire-contract issue, but must not pass silently.
        violations.push(err instanceof StubUnsupported ? message : `stub failure: ${message}`);
        send(fail(400, message), true);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    contractChecked: contract !== undefined,
    violations: () => [...violations],
    requests: () => [...log],
    dropNext: (method, suffix) => new Promise<void>((resolve) => drops.push({ method, suffix, done: resolve, stall: false })),
    stallNext: (method, suffix) => new Promise<void>((resolve) => drops.push({ method, suffix, done: resolve, stall: true })),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
