// deploy/docker-compose.yml is for users; no Docker engine runs here, so it is checked against the
// Compose Specification's JSON schema (vendored in deploy/schema, nothing is downloaded), and
// against what the stack needs: every service the docs promise, pinned images, files it mounts.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse } from 'yaml';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEPLOY = join(ROOT, 'deploy');

function validator(): Ajv.ValidateFunction {
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  // The schema names the draft-07 meta-schema by its https id; Ajv ships it under the http one.
  const meta = JSON.parse(readFileSync(join(ROOT, 'node_modules/ajv/dist/refs/json-schema-draft-07.json'), 'utf8')) as object;
  ajv.addMetaSchema({ ...meta, $id: 'https://json-schema.org/draft-07/schema' });
  return ajv.compile(JSON.parse(readFileSync(join(DEPLOY, 'schema/compose-spec.json'), 'utf8')) as object);
}

interface ComposeFile {
  services: Record<string, { image?: string; build?: { context: string; dockerfile: string }; volumes?: string[]; ports?: string[] }>;
}

const compose = (): ComposeFile => parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8')) as ComposeFile;

test('docker-compose.yml is valid under the Compose Specification schema', () => {
  const validate = validator();
  const ok = validate(compose());
  assert.equal(ok, true, JSON.stringify(validate.errors, null, 2));
});

test('the schema check is real: a misspelt key and a wrong type are refused', () => {
  const validate = validator();
  const bad = compose() as unknown as { services: Record<string, Record<string, unknown>> };
  (bad.services.worker as Record<string, unknown>).enviroment = { A: 'b' };
  assert.equal(validate(bad), false);
  const bad2 = compose() as unknown as { services: Record<string, Record<string, unknown>> };
  (bad2.services.redis as Record<string, unknown>).ports = 6379;
  assert.equal(validate(bad2), false);
});

test('the stack has the four stores, Prometheus, Grafana and a worker; images pinned; mounted files exist', () => {
  const c = compose();
  for (const name of ['postgres', 'neo4j', 'qdrant', 'redis', 'prometheus', 'grafana', 'worker'])
    assert.ok(c.services[name], `service ${name}`);
  for (const [name, s] of Object.entries(c.services)) {
    if (s.image !== undefined) assert.match(s.image, /:[^:]+$/, `${name} image has a tag`);
    assert.ok(!s.image?.endsWith(':latest'), `${name} image is pinned`);
    for (const v of s.volumes ?? []) {
      if (!v.startsWith('./')) continue; // named volumes
      assert.ok(existsSync(join(DEPLOY, v.split(':')[0] as string)), `${name} mounts ${v}`);
    }
    for (const p of s.ports ?? []) assert.match(p, /^127\.0\.0\.1:/, `${name} publishes ${p} on localhost only`);
  }
  const w = c.services.worker;
  assert.ok(w?.build && existsSync(join(DEPLOY, w.build.context, w.build.dockerfile)), 'worker Dockerfile');
});
