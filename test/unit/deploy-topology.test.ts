// deploy/compose.topology.yml (issue 24) is for users; no Docker engine, Neo4j Enterprise or Qdrant
// server runs here, so it is checked offline: against the Compose Specification's JSON schema
// (vendored in deploy/schema), for the topology it promises (3 Neo4j members behind neo4j://,
// 2 Qdrant peers, pinned images), and its worker settings through Apex Memory's own config checks.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { configFromEnv } from '../../src/config/profile.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FILE = join(ROOT, 'deploy', 'compose.topology.yml');

interface Service {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
}
const compose = (): { services: Record<string, Service> } =>
  parse(readFileSync(FILE, 'utf8'), { merge: true }) as { services: Record<string, Service> };

function validator(): Ajv.ValidateFunction {
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  const meta = JSON.parse(readFileSync(join(ROOT, 'node_modules/ajv/dist/refs/json-schema-draft-07.json'), 'utf8')) as object;
  ajv.addMetaSchema({ ...meta, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(JSON.parse(readFileSync(join(ROOT, 'deploy/schema/compose-spec.json'), 'utf8')) as object);
}

test('compose.topology.yml is valid under the Compose Specification schema, and the check can fail', () => {
  const validate = validator();
  assert.equal(validate(compose()), true, JSON.stringify(validate.errors, null, 2));
  const bad = compose() as unknown as { services: Record<string, Record<string, unknown>> };
  (bad.services.qdrant2 as Record<string, unknown>).depends_on = 'qdrant1';
  assert.equal(validate(bad), false);
});

test('the topology: three Neo4j members each advertising itself, two Qdrant peers, pinned images', () => {
  const s = compose().services;
  for (const n of ['neo4j1', 'neo4j2', 'neo4j3']) {
    assert.equal(s[n]?.environment?.NEO4J_server_default__advertised__address, n);
    assert.equal(s[n]?.environment?.NEO4J_initial_dbms_default__primaries__count, '3');
  }
  assert.equal(s.qdrant1?.environment?.QDRANT__CLUSTER__ENABLED, 'true');
  assert.deepEqual(s.qdrant2?.command?.slice(1, 3), ['--bootstrap', 'http://qdrant1:6335']);
  for (const [name, svc] of Object.entries(s)) if (svc.image) assert.match(svc.image, /:[^:]+$/, `${name} image is pinned`);
});

test("the worker's settings pass Apex Memory's own checks: neo4j:// routing, the Qdrant layout", () => {
  const env = compose().services.worker?.environment ?? {};
  assert.match(env.NEO4J_URL ?? '', /^neo4j:\/\//);
  const cfg = configFromEnv(env, '/tmp/apex-deploy-check');
  assert.deepEqual([cfg.qdrantShards, cfg.qdrantReplicationFactor, cfg.qdrantWriteConsistency], [2, 2, 1]);
});
