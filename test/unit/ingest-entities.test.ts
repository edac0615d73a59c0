import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractEntities } from '../../src/ingest/entities.js';

test('multi-word names anywhere, single capitalized words only mid-sentence, hashtags', () => {
  const text = [
    'Apache Kafka keeps the log. We cache reads in Redis and model links in Neo4j.',
    'Redis starts this sentence, so alone it would not count here.',
    'Tags: #caching #graph-modelling',
  ].join('\n');
  assert.deepEqual(extractEntities(text), ['#caching', '#graph-modelling', 'Apache Kafka', 'Neo4j', 'Redis']);
});

test('a capitalized word that only starts a sentence or a line is not an entity', () => {
  assert.deepEqual(extractEntities('Databases are hard. Caches help.\n- Queues too.\n# Heading'), []);
  assert.deepEqual(extractEntities('Postgres stores rows.'), []);
  assert.deepEqual(extractEntities('We like Postgres.'), ['Postgres']);
});

test('leading function words are dropped from a run ("The Saga Engine" -> "Saga Engine")', () => {
  assert.deepEqual(extractEntities('The Saga Engine retries. In Redis, keys expire.'), ['Redis', 'Saga Engine']);
});

test('names are normalized, deduplicated and sorted', () => {
  assert.deepEqual(extractEntities('We use Qdrant. Then we use Qdrant again with Neo4j and Qdrant.'), ['Neo4j', 'Qdrant']);
  assert.deepEqual(extractEntities('see Zeta Corp and Alpha Corp'), ['Alpha Corp', 'Zeta Corp']);
});

test('hashtags need a word boundary: C#, HTML entities and URL fragments are not tags', () => {
  assert.deepEqual(extractEntities('code in c# with &#39; and http://x.org/#frag and #real'), ['#real']);
});

test('at most `max` entities, the most frequent kept, still sorted', () => {
  const names = Array.from({ length: 40 }, (_, i) => `#tag${String(i).padStart(2, '0')}`);
  const text = `${names.join(' ')} #tag39 #tag39 #tag38`;
  const result = extractEntities(text);
  assert.equal(result.length, 32);
  assert.ok(result.includes('#tag39') && result.includes('#tag38'), 'frequent ones survive the cut');
  assert.deepEqual(result, [...result].sort());
  assert.deepEqual(extractEntities(text, 3), ['#tag00', '#tag38', '#tag39']);
});

test('deterministic and total: odd input never throws', () => {
  const odd = "'); DROP TABLE documents; -- MATCH (n) DETACH DELETE n 🚀 Ünïcödé Straße ÉCOLE";
  assert.deepEqual(extractEntities(odd), extractEntities(odd));
  assert.ok(extractEntities(odd).includes('Ünïcödé Straße ÉCOLE'));
  assert.deepEqual(extractEntities(''), []);
});
