// Concurrent writeVersion calls of documents that share many entities, on the real Neo4j, must
// never deadlock (issue 15). The driver's own retry is switched off (maxRetryTimeMs 0) so a
// Neo.TransientError.Transaction.DeadlockDetected reaches us instead of being retried away; every
// such error is counted and the goal is 0. Entities are listed in a different shuffled order in
// each document and chunk, which is what made sagas MERGE the same nodes in different orders.
// Removals of documents sharing the entities run in the same rounds (compensations race ingests
// in real runs), and every version left must keep all its chunks and mentions. Seeded: APEX_TEST_SEED=<n> replays a run.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import neo4j from 'neo4j-driver';
import { seededRandom } from '../../src/saga/index.js';
import { createNeo4jStore, type Neo4jGraphStore } from '../../src/stores/neo4j/graph-store.js';
import type { DocumentVersion } from '../../src/stores/types.js';
import { testServices } from '../support/services.js';

const CONCURRENCY = 32;
const ROUNDS = 4;
const seed = Number(process.env.APEX_TEST_SEED ?? Date.now() % 1_000_000);
const random = seededRandom(seed);
const url = testServices().neo4jUrl;
let store: Neo4jGraphStore;
let token = 1;

function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Eight chunks, each naming 15 entities of the pool in its own order. */
function doc(docId: string, sha: string, pool: readonly string[]): DocumentVersion {
  return {
    docId,
    title: docId,
    contentSha256: sha,
    metadata: {},
    chunks: shuffled(Array.from({ length: 8 }, (_, idx) => idx)).map((idx) => ({
      idx,
      text: `${docId} ${idx}`,
      entities: shuffled(pool).slice(0, 15),
      embedding: [],
    })),
  };
}

interface Tally {
  deadlocks: number;
  other: string[];
}

async function settle(calls: Array<Promise<void>>, tally: Tally): Promise<void> {
  for (const r of await Promise.allSettled(calls)) {
    if (r.status === 'fulfilled') continue;
    const cause = (r.reason as { cause?: { code?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : '';
    if (/DeadlockDetected/.test(code)) tally.deadlocks += 1;
    else tally.other.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
  }
}

const ctx = (sagaId: string): { sagaId: string; fencingToken: number } => ({ sagaId, fencingToken: token++ });

/**
 * ROUNDS rounds of CONCURRENCY writes of new documents; from the second round on, the previous
 * round's documents are all removed in the same batch (half by removeVersion, half by
 * removeDocument), so entity nodes are created, shared and deleted while other transactions
 * link to them. `docsPerRound` below CONCURRENCY makes several sagas write versions of the same
 * document at once. Then every surviving version must have all its chunks and mentions.
 */
async function rounds(label: string, pool: readonly string[], docsPerRound: number): Promise<void> {
  const tally: Tally = { deadlocks: 0, other: [] };
  const docId = (round: number, i: number): string => `${label}-r${round}-d${i % docsPerRound}`;
  let last: DocumentVersion[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const versions = Array.from({ length: CONCURRENCY }, (_, i) => doc(docId(round, i), `sha-${round}-${i}`, pool));
    const writes = versions.map((v, i) => store.writeVersion(v, ctx(`${label}-${round}-${i}`)));
    const removals = last.map((v, i) =>
      i % 2 === 0
        ? store.removeVersion(v.docId, v.contentSha256, ctx(`${label}-${round - 1}-${i}`))
        : store.removeDocument(v.docId, ctx(`${label}-${round - 1}-${i}`)),
    );
    await settle(shuffled([...writes, ...removals]), tally);
    last = versions;
  }
  assert.deepEqual(tally.other, [], `unexpected failures (seed ${seed})`);
  assert.equal(tally.deadlocks, 0, `DeadlockDetected seen ${tally.deadlocks} times (seed ${seed})`);
  for (let round = 0; round < ROUNDS - 1; round++) {
    for (let d = 0; d < docsPerRound; d++)
      assert.deepEqual(await store.listVersions(docId(round, d)), [], `${docId(round, d)} was removed`);
  }
  for (const v of last) {
    const stored = await store.listVersions(v.docId);
    assert.equal(stored.find((s) => s.contentSha256 === v.contentSha256)?.chunkCount, 8, `chunks of ${v.docId} ${v.contentSha256}`);
    const expected = [...new Set(v.chunks.flatMap((c) => c.entities))].sort();
    assert.deepEqual(await store.entities(v.docId, v.contentSha256), expected, `mentions of ${v.docId} ${v.contentSha256} (seed ${seed})`);
  }
}

const entityNames = (n: number): string[] => Array.from({ length: n }, (_, i) => `Entity ${String(i).padStart(4, '0')}`);

before(async () => {
  console.log(`neo4j deadlock test seed: ${seed} (replay with APEX_TEST_SEED=${seed})`);
  const driver = neo4j.driver(url);
  const session = driver.session();
  await session.run('MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
  await session.close();
  await driver.close();
  store = createNeo4jStore({ url, timeoutMs: 30_000, maxRetryTimeMs: 0 });
  await store.connect();
});

after(async () => {
  await store.close();
});

// 40 entities get hundreds of MENTIONS each: Neo4j treats them as dense nodes.
test(`${CONCURRENCY} concurrent writes sharing 40 entities in shuffled orders, with removals: no deadlock`, async () => {
  await rounds('dense', entityNames(40), CONCURRENCY);
});

// 1000 entities stay below the dense-node threshold (50 relationships), where Neo4j locks the
// node itself for every relationship created or deleted on it.
test(`${CONCURRENCY} concurrent writes sharing 1000 entities in shuffled orders, with removals: no deadlock`, async () => {
  await rounds('sparse', entityNames(1000), CONCURRENCY);
});

// Four sagas write versions of the same document at once, while other versions are removed.
test(`${CONCURRENCY} concurrent writes of 8 documents (4 versions each) with removals: no deadlock`, async () => {
  await rounds('same-doc', entityNames(200), 8);
});
