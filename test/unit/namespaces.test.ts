// APEX_NAMESPACE (src/config/namespace.ts) and the names it derives in each store: pure functions,
// no server (the servers test is test/integration/namespaces-servers.test.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { configFromEnv } from '../../src/config/profile.js';
import { namespaceCollection, namespaceSchema } from '../../src/config/namespace.js';
import { docKey, fenceKey, redisKeys } from '../../src/stores/redis/keys.js';
import { namespaceCypher, noNamespace } from '../../src/stores/neo4j/namespace.js';
import { SCHEMA_RULES } from '../../src/stores/neo4j/schema.js';
import { profileLines } from '../../src/cli/output.js';
import { ApexMetrics } from '../../src/metrics/registry.js';

/** Redis SCAN MATCH for the patterns used here: only '*' is special in them. */
const globMatches = (pattern: string, key: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    's',
  ).test(key);

void describe('APEX_NAMESPACE', () => {
  void it('unset or empty: no namespace, the data directory unchanged', () => {
    assert.equal(configFromEnv({}, '/tmp/apex').namespace, undefined);
    assert.equal(configFromEnv({ APEX_NAMESPACE: '' }, '/tmp/apex').dataDir, resolve('/tmp/apex'));
  });

  void it('set: the embedded data directory is <dir>/<ns>, derived names per store', () => {
    const cfg = configFromEnv({ APEX_NAMESPACE: 'staging_2' }, '/tmp/apex');
    assert.equal(cfg.namespace, 'staging_2');
    assert.equal(cfg.dataDir, resolve('/tmp/apex/staging_2'));
    assert.equal(namespaceSchema('staging_2'), 'apex_staging_2');
    assert.equal(namespaceCollection('staging_2'), 'apex_staging_2_chunks');
  });

  void it('a bad value is refused naming the setting and the rule; the reserved name too', () => {
    for (const bad of ['Staging', '1st', 'a-b', 'a:b', 'a{b}', 'x'.repeat(32), ' staging', 'saga']) {
      assert.throws(
        () => configFromEnv({ APEX_NAMESPACE: bad }, '/tmp/apex'),
        (err: { code?: string; setting?: string; message: string }) =>
          err.code === 'CONFIG_INVALID' && err.setting === 'APEX_NAMESPACE' && err.message.includes('APEX_NAMESPACE'),
        bad,
      );
    }
    assert.equal(configFromEnv({ APEX_NAMESPACE: 'x'.repeat(31) }, '/tmp/apex').namespace, 'x'.repeat(31));
  });
});

void describe('Redis keys per namespace', () => {
  const plain = redisKeys();
  const a = redisKeys('ns_a');
  const ab = redisKeys('ns_a_b');

  void it('no namespace: exactly the layout-2 keys', () => {
    assert.equal(plain.docKey('d1'), docKey('d1'));
    assert.equal(plain.fenceKey('d1', 's1'), fenceKey('d1', 's1'));
    assert.equal(plain.docKey('d1'), 'apex:{2:d1}:doc');
    assert.equal(plain.versionKey, 'apex:keys-version');
  });

  void it('a namespace prefixes every key; the hash tag stays per document (one slot per document)', () => {
    assert.equal(a.docKey('d1'), 'apex:ns_a:{2:d1}:doc');
    assert.equal(a.fenceKey('d1', 's1'), 'apex:ns_a:{2:d1}:fence:s1');
    assert.equal(a.versionKey, 'apex:ns_a:keys-version');
    assert.equal(calculateSlot(a.docKey('d1')), calculateSlot(a.fenceKey('d1', 's9')));
    assert.equal(calculateSlot(a.docKey('d1')), calculateSlot(plain.docKey('d1')));
  });

  void it("no deployment's scan pattern or key parser takes another's keys, whatever the document id", () => {
    const all = [plain, a, ab];
    for (const id of ['d1', 'ns_a:{2:d1}', '}:doc', 'x}:doc', '{', '']) {
      for (const owner of all) {
        for (const reader of all) {
          const key = owner.docKey(id);
          const mine = owner === reader;
          assert.equal(globMatches(reader.docPattern, key), mine, `${reader.docPattern} vs ${key}`);
          assert.equal(reader.docIdOfKey(key), mine ? id : undefined, `${String(reader.namespace)} parses ${key}`);
        }
      }
    }
  });
});

void describe('Neo4j labels per namespace', () => {
  const ns = namespaceCypher('ns_a');

  void it('no namespace: statements unchanged', () => {
    assert.equal(namespaceCypher(undefined), noNamespace);
    for (const rule of SCHEMA_RULES) assert.equal(noNamespace(rule.statement), rule.statement);
  });

  void it('labels and rule names are rewritten; relationship types and properties are not', () => {
    assert.equal(
      ns('MATCH (d:Document {id: $docId})-[:HAS_CHUNK]->(c:Chunk)-[:MENTIONS]->(e:Entity) MERGE (f:WriteFence {doc_id: $d})'),
      'MATCH (d:ns_a_Document {id: $docId})-[:HAS_CHUNK]->(c:ns_a_Chunk)-[:MENTIONS]->(e:ns_a_Entity) MERGE (f:ns_a_WriteFence {doc_id: $d})',
    );
    assert.equal(ns("MERGE (m:ApexSchema {id: 'apex'})"), "MERGE (m:ns_a_ApexSchema {id: 'apex'})");
    for (const rule of SCHEMA_RULES) {
      const out = ns(rule.statement);
      assert.ok(out.includes(`apex_ns_a_${rule.name.slice('apex_'.length)} `), out);
      assert.ok(/:ns_a_(Document|Chunk|Entity|WriteFence)\)/.test(out), out);
    }
  });
});

void describe('where the namespace is shown', () => {
  const description = {
    profile: 'servers' as const,
    stores: { postgres: 'postgres x', neo4j: 'neo4j x', qdrant: 'qdrant x', redis: 'redis x' },
    sagaLog: 'postgres x',
    durability: 'd',
    embedder: 'hashing',
  };

  void it("status's profile line names it, and says nothing without one", () => {
    assert.match(profileLines({ ...description, namespace: 'staging' }), /^profile: servers {2}embedder: hashing {2}namespace: staging$/m);
    assert.ok(!profileLines({ ...description, namespace: null }).includes('namespace'));
  });

  void it('metrics: apex_namespace_info{namespace} 1', async () => {
    const m = new ApexMetrics();
    m.namespaceInfo.set({ namespace: 'staging' }, 1);
    assert.match(await m.registry.metrics(), /^apex_namespace_info\{namespace="staging"\} 1$/m);
  });
});
