// Several processes starting at once against a fresh Neo4j (a new fleet, a CI run) all create the
// schema rules at the same moment; Neo4j may answer DeadlockDetected on its schema locks. connect()
// must succeed for every one of them. The rules are dropped first to make the database fresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import neo4j from 'neo4j-driver';
import { createNeo4jStore } from '../../src/stores/neo4j/graph-store.js';
import { SCHEMA_RULES } from '../../src/stores/neo4j/schema.js';

/** The rules of the deployment without a namespace (a namespace's, apex_<ns>_..., are not this test's). */
const RULES = SCHEMA_RULES.map((r) => r.name);
import { testServices } from '../support/services.js';

test(
  'Neo4j: 8 concurrent connects on a database without the schema all succeed, and the schema is complete',
  { timeout: 120_000 },
  async () => {
    const { neo4jUrl } = testServices();
    const driver = neo4j.driver(neo4jUrl);
    const names = async (): Promise<string[]> => {
      const session = driver.session();
      try {
        const c = await session.run('SHOW CONSTRAINTS YIELD name WHERE name IN $rules RETURN name', { rules: RULES });
        const i = await session.run(
          'SHOW INDEXES YIELD name, owningConstraint WHERE name IN $rules AND owningConstraint IS NULL RETURN name',
          { rules: RULES },
        );
        return [...c.records, ...i.records].map((r) => String(r.get('name'))).sort();
      } finally {
        await session.close();
      }
    };
    try {
      const before = await names();
      for (let round = 0; round < 3; round++) {
        for (const name of await names()) {
          const session = driver.session();
          const isIndex = name === 'apex_chunk_doc' || name === 'apex_chunk_version';
          await session.run(`DROP ${isIndex ? 'INDEX' : 'CONSTRAINT'} ${name} IF EXISTS`).finally(() => session.close());
        }
        assert.deepEqual(await names(), []);
        const stores = Array.from({ length: 8 }, () => createNeo4jStore({ url: neo4jUrl }));
        const results = await Promise.allSettled(stores.map((s) => s.connect()));
        await Promise.all(stores.map((s) => s.close()));
        assert.deepEqual(
          results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
          [],
        );
        const after = await names();
        if (before.length > 0) assert.deepEqual(after, before);
        assert.ok(after.length >= 6, after.join(', '));
      }
    } finally {
      await driver.close();
    }
  },
);
