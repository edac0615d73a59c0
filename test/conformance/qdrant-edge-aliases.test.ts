// Qdrant's alias API on the Qdrant Edge front (issue 25), on the wire: POST /collections/aliases
// applies its actions all or none, GET /aliases and GET /collections/{name}/aliases list them,
// collection endpoints resolve an alias, names cannot be shared between a collection and an alias,
// deleting a collection deletes its aliases, and aliases survive SIGKILL of the front. A private
// front (own port and data dir) behind the checking proxy: every request and answer is checked
// against Qdrant's OpenAPI document when it is available.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contractSkipReason } from '../support/qdrant-contract.js';
import { startEdgeFrontProcess, type EdgeFrontProcess } from '../support/qdrant-edge-process.js';
import { startQdrantFront, type QdrantUnderTest } from '../support/qdrant-front.js';

const dataDir = mkdtempSync(join(tmpdir(), 'apex-qdrant-edge-aliases-'));
let edge: EdgeFrontProcess;
let front: QdrantUnderTest;
/** Violations seen by the proxies of earlier front processes (each restart gets a new proxy). */
const earlier: string[] = [];

interface Answer {
  status: number;
  result: unknown;
  error: string | undefined;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const res = await fetch(`${front.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = (await res.json()) as { result?: unknown; status?: { error?: string } | string };
  return { status: res.status, result: json.result, error: typeof json.status === 'object' ? json.status.error : undefined };
}

const aliases = async (path = '/aliases'): Promise<unknown> => (await call('GET', path)).result;
const create = (alias: string, collection: string): unknown => ({ create_alias: { alias_name: alias, collection_name: collection } });
const count = async (name: string): Promise<unknown> => (await call('POST', `/collections/${name}/points/count`, { exact: true })).result;

async function restart(signal: NodeJS.Signals): Promise<void> {
  const port = new URL(edge.url).port;
  edge.proc.kill(signal);
  await edge.exited;
  earlier.push(...front.violations());
  await front.close();
  edge = await startEdgeFrontProcess(dataDir, Number(port));
  front = await startQdrantFront({ target: edge.url, wipe: false });
}

before(async () => {
  edge = await startEdgeFrontProcess(dataDir);
  front = await startQdrantFront({ target: edge.url });
  for (const name of ['blue', 'green']) {
    assert.equal((await call('PUT', `/collections/${name}`, { vectors: { size: 4, distance: 'Cosine' } })).status, 200);
  }
});
after(async () => {
  await front.close();
  edge.proc.kill('SIGTERM');
  await edge.exited;
  rmSync(dataDir, { recursive: true, force: true });
});

test('POST /collections/aliases applies all actions or none', async () => {
  const failed = await call('POST', '/collections/aliases', { actions: [create('live', 'blue'), create('next', 'missing')] });
  assert.equal(failed.status, 404);
  assert.match(failed.error ?? '', /Collection `missing` doesn't exist/);
  assert.deepEqual(await aliases(), { aliases: [] }, 'the first action was not kept');

  const renamed = await call('POST', '/collections/aliases', {
    actions: [create('live', 'blue'), create('tmp', 'green'), { rename_alias: { old_alias_name: 'tmp', new_alias_name: 'next' } }],
  });
  assert.deepEqual([renamed.status, renamed.result], [200, true]);
  assert.deepEqual(await aliases(), {
    aliases: [
      { alias_name: 'live', collection_name: 'blue' },
      { alias_name: 'next', collection_name: 'green' },
    ],
  });
  assert.deepEqual(await aliases('/collections/blue/aliases'), { aliases: [{ alias_name: 'live', collection_name: 'blue' }] });
  assert.deepEqual(await aliases('/collections/nothing/aliases'), { aliases: [] });
  const missingRename = await call('POST', '/collections/aliases', {
    actions: [{ rename_alias: { old_alias_name: 'nope', new_alias_name: 'x' } }],
  });
  assert.equal(missingRename.status, 404);
  // Deleting an absent alias is not an error (Qdrant: "Delete alias if exists").
  assert.equal((await call('POST', '/collections/aliases', { actions: [{ delete_alias: { alias_name: 'nope' } }] })).status, 200);
});

test('collection endpoints resolve an alias; a name is a collection or an alias, never both', async () => {
  const upsert = await call('PUT', '/collections/live/points?wait=true', {
    points: [{ id: 1, vector: [0.1, 0.2, 0.3, 0.4], payload: { doc_id: 'd' } }],
  });
  assert.equal(upsert.status, 200);
  assert.deepEqual(await count('blue'), { count: 1 });
  assert.deepEqual(await count('live'), { count: 1 });
  assert.deepEqual((await call('GET', '/collections/live/exists')).result, { exists: true });
  assert.equal((await call('GET', '/collections/live')).status, 200);
  const hits = await call('POST', '/collections/live/points/query', { query: [0.1, 0.2, 0.3, 0.4], limit: 1 });
  assert.equal((hits.result as { points: unknown[] }).points.length, 1);

  const collectionOnAlias = await call('PUT', '/collections/live', { vectors: { size: 4, distance: 'Cosine' } });
  assert.equal(collectionOnAlias.status, 400);
  assert.match(collectionOnAlias.error ?? '', /Alias with the same name already exists/);
  const aliasOnCollection = await call('POST', '/collections/aliases', { actions: [create('green', 'blue')] });
  assert.equal(aliasOnCollection.status, 409);
  // GET /collections lists collections, not aliases (as Qdrant).
  assert.deepEqual((await call('GET', '/collections')).result, { collections: [{ name: 'blue' }, { name: 'green' }] });
});

test('aliases survive SIGKILL of the front; deleting a collection deletes its aliases, durably', async () => {
  await restart('SIGKILL');
  assert.deepEqual(await aliases(), {
    aliases: [
      { alias_name: 'live', collection_name: 'blue' },
      { alias_name: 'next', collection_name: 'green' },
    ],
  });
  assert.deepEqual(await count('live'), { count: 1 });

  // The switch: one request, both actions.
  const flip = await call('POST', '/collections/aliases', { actions: [{ delete_alias: { alias_name: 'live' } }, create('live', 'green')] });
  assert.equal(flip.status, 200);
  assert.deepEqual(await count('live'), { count: 0 });

  assert.deepEqual((await call('DELETE', '/collections/green')).result, true);
  assert.deepEqual(await aliases(), { aliases: [] });
  assert.equal((await call('POST', '/collections/live/points/count', { exact: true })).status, 404);
  await restart('SIGKILL');
  assert.deepEqual(await aliases(), { aliases: [] });
  assert.deepEqual((await call('GET', '/collections')).result, { collections: [{ name: 'blue' }] });
});

test("every alias request and answer met Qdrant's OpenAPI contract", { skip: contractSkipReason() }, () => {
  assert.equal(front.contractChecked, true);
  assert.deepEqual([...earlier, ...front.violations()], []);
});
