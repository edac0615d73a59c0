// APEX_INJECT_FAULTS: a worker's stores wrapped with fault injection for drills and the
// observability acceptance test; only the named stores, loudly, and bad JSON is refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drillStoresFromEnv, FAULTS_ENV, injectFaultsFromEnv } from '../../src/stores/faults-env.js';
import type { StoreSet } from '../../src/stores/types.js';

const stores = (): StoreSet =>
  ({
    postgres: { name: 'postgres', getDocument: async () => undefined },
    neo4j: { name: 'neo4j', writeVersion: async () => {} },
    qdrant: { name: 'qdrant' },
    redis: { name: 'redis' },
  }) as unknown as StoreSet;

test('unset: the stores are returned as they are, silently', () => {
  const s = stores();
  const warnings: string[] = [];
  assert.equal(
    injectFaultsFromEnv(s, {}, (l) => warnings.push(l)),
    s,
  );
  assert.deepEqual(warnings, []);
});

test('set: only the named store fails as scheduled, with a warning per store', async () => {
  const s = stores();
  const warnings: string[] = [];
  const env = {
    [FAULTS_ENV]: JSON.stringify({ neo4j: { failOn: [{ method: 'writeVersion', times: 1, when: 'before', retryable: false }] } }),
  };
  const out = injectFaultsFromEnv(s, env, (l) => warnings.push(l));
  assert.equal(out.postgres, s.postgres);
  await assert.rejects(out.neo4j.writeVersion({} as never, { sagaId: 'x', fencingToken: 1 }), { code: 'STORE_INJECTED' });
  await out.neo4j.writeVersion({} as never, { sagaId: 'x', fencingToken: 1 }); // once only
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /neo4j.*never in production/);
});

test('bad JSON is refused', () => {
  assert.throws(() => injectFaultsFromEnv(stores(), { [FAULTS_ENV]: '{nope' }, () => undefined), /not valid JSON/);
});

test('drillStoresFromEnv names the drilled stores; refuses unknown stores and non-objects', () => {
  assert.deepEqual(drillStoresFromEnv({}), []);
  assert.deepEqual(drillStoresFromEnv({ [FAULTS_ENV]: '{"redis":{"random":{"probability":0.1}},"neo4j":{"failOn":[]}}' }), [
    'neo4j',
    'redis',
  ]);
  assert.throws(() => drillStoresFromEnv({ [FAULTS_ENV]: '{"qdrnt":{}}' }), /unknown store qdrnt/);
  assert.throws(() => drillStoresFromEnv({ [FAULTS_ENV]: '[1]' }), /JSON object/);
  assert.throws(() => injectFaultsFromEnv(stores(), { [FAULTS_ENV]: '{"qdrnt":{}}' }, () => undefined), /unknown store/);
});
