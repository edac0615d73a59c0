#!/usr/bin/env node
// Writes the sample corpus (examples/corpus/) and the invalid inputs used by tests (examples/bad/).
// Deterministic: a seeded PRNG and fixed templates, no network, so re-running it reproduces the
// committed files byte for byte. Usage: node scripts/make-corpus.mjs [--seed N]
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Buffer } from 'node:buffer';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'examples');
const seedArg = process.argv.indexOf('--seed');
const SEED = seedArg > 0 ? Number(process.argv[seedArg + 1]) : 20260101;
const MD_PER_TOPIC = 34; // 6 topics -> 204 markdown files
const JSONL_LINES = 100;

// mulberry32: tiny, seedable, identical on every platform.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const pick = (list) => list[Math.floor(rand() * list.length)];
const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const PEOPLE = [
  'Alice Martin',
  'Bob Chen',
  'Priya Natarajan',
  'Jonas Weber',
  'Chiara Rossi',
  'Kenji Tanaka',
  'Amara Okafor',
  'Lucas Moreau',
];
const TEAMS = ['Project Atlas', 'Orion Team', 'Platform Guild', 'Search Squad'];
const TOPICS = {
  databases: {
    things: ['PostgreSQL', 'SQLite', 'CockroachDB', 'Google Spanner', 'Amazon Aurora', 'MySQL'],
    ideas: [
      'the Write-Ahead Log',
      'Multi-Version Concurrency Control',
      'Serializable Snapshot Isolation',
      'logical replication',
      'autovacuum',
      'partial indexes',
    ],
    tags: ['#databases', '#postgres', '#transactions'],
  },
  sagas: {
    things: ['Temporal', 'Apache Kafka', 'the Outbox Pattern', 'Two-Phase Commit', 'Saga Orchestrator', 'Camunda'],
    ideas: ['compensating actions', 'idempotency keys', 'the pivot step', 'lease fencing', 'semantic locks', 'retry budgets'],
    tags: ['#sagas', '#distributed-systems', '#consistency'],
  },
  caching: {
    things: ['Redis', 'Memcached', 'Varnish', 'Cloudflare', 'Redis Cluster', 'KeyDB'],
    ideas: [
      'cache-aside reads',
      'write-through updates',
      'Least Recently Used eviction',
      'stampede protection',
      'negative caching',
      'key expiry',
    ],
    tags: ['#caching', '#redis', '#latency'],
  },
  graphs: {
    things: ['Neo4j', 'Cypher', 'Apache TinkerPop', 'Gremlin', 'Amazon Neptune', 'Memgraph'],
    ideas: ['labeled property graphs', 'relationship fan-out', 'entity resolution', 'MERGE semantics', 'supernodes', 'path queries'],
    tags: ['#graphs', '#neo4j', '#modelling'],
  },
  vectors: {
    things: ['Qdrant', 'FAISS', 'Hierarchical Navigable Small World', 'Sentence Transformers', 'OpenAI Embeddings', 'Product Quantization'],
    ideas: ['cosine similarity', 'payload filtering', 'approximate recall', 'vector dimension', 'hybrid search', 'collection aliases'],
    tags: ['#vectors', '#search', '#embeddings'],
  },
  operations: {
    things: ['Prometheus', 'Grafana', 'Kubernetes', 'OpenTelemetry', 'Jaeger', 'PagerDuty'],
    ideas: ['alert fatigue', 'service level objectives', 'error budgets', 'histogram buckets', 'trace sampling', 'runbooks'],
    tags: ['#operations', '#observability', '#oncall'],
  },
};

const SENTENCES = [
  (t) => `${pick(PEOPLE)} measured ${pick(t.things)} at ${between(2, 90)} thousand writes per second once ${pick(t.ideas)} was tuned.`,
  (t) => `We rely on ${pick(t.things)} for ${pick(t.ideas)}, and ${pick(t.things)} covers the rest.`,
  (t) => `The ${pick(TEAMS)} found that ${pick(t.ideas)} matters more than raw hardware.`,
  (t) => `When ${pick(t.things)} restarts, ${pick(t.ideas)} decides how long readers wait.`,
  (t) => `A common mistake is to treat ${pick(t.ideas)} as optional; ${pick(PEOPLE)} saw an outage caused by exactly that.`,
  (t) => `Compare ${pick(t.things)} with ${pick(t.things)} before choosing, especially for ${pick(t.ideas)}.`,
  (t) => `In our notes, ${pick(t.ideas)} appears ${between(2, 40)} times, usually next to ${pick(t.things)}.`,
  (t) => `Benchmarks by ${pick(PEOPLE)} show p99 latency of ${between(1, 250)} ms with ${pick(t.things)}.`,
  (t) => `Keep ${pick(t.ideas)} boring: the clever version failed twice in staging.`,
  (t) => `The runbook says to check ${pick(t.things)} first, then ${pick(t.ideas)}, then escalate to ${pick(TEAMS)}.`,
];

function paragraph(topic) {
  const parts = [];
  for (let i = between(2, 5); i > 0; i--) parts.push(pick(SENTENCES)(topic));
  return parts.join(' ');
}

function body(topic, long) {
  const paragraphs = [];
  for (let i = long ? between(6, 10) : between(1, 4); i > 0; i--) paragraphs.push(paragraph(topic));
  if (rand() < 0.6) paragraphs.push(`Tags: ${topic.tags.filter(() => rand() < 0.7).join(' ') || topic.tags[0]}`);
  return paragraphs.join('\n\n');
}

// Valid but hostile: every store must treat these as data, never as code or markup.
const HOSTILE_TITLES = [
  "'); DROP TABLE documents; --",
  'MATCH (n) DETACH DELETE n',
  'Quotes "double", \'single\' and `backticks`',
  'Back\\slashes C:\\temp\\new and \\n that is not a newline',
  'Emoji 🚀 rockets, 👩‍💻 developers and 🇩🇪 flags',
  '{"$where": "1 == 1"} and <script>alert(1)</script>',
  'FLUSHALL apex:doc:* KEYS *',
  'Ünïcödé — naïve café, 日本語のタイトル, עברית',
];

function slug(s) {
  return (
    s
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'note'
  );
}

function writeCorpus() {
  const dir = join(root, 'corpus');
  rmSync(dir, { recursive: true, force: true });
  let hostile = 0;
  for (const [name, topic] of Object.entries(TOPICS)) {
    mkdirSync(join(dir, name), { recursive: true });
    for (let i = 1; i <= MD_PER_TOPIC; i++) {
      const subject = pick(topic.things);
      const useHostile = i === 7 && hostile < HOSTILE_TITLES.length;
      const title = useHostile ? HOSTILE_TITLES[hostile++] : `${subject} and ${pick(topic.ideas)}`;
      const file = `${String(i).padStart(3, '0')}-${slug(title)}.md`;
      writeFileSync(join(dir, name, file), `# ${title}\n\n${body(topic, i % 9 === 0)}\n`);
    }
  }
  const topics = Object.values(TOPICS);
  const lines = [];
  for (let i = 1; i <= JSONL_LINES; i++) {
    const topic = pick(topics);
    const title =
      hostile < HOSTILE_TITLES.length && i % 10 === 3 ? HOSTILE_TITLES[hostile++] : `${pick(topic.things)}: notes on ${pick(topic.ideas)}`;
    const doc = {};
    // Every tenth line has no id: its id is derived from the text.
    if (i % 10 !== 0)
      doc.id = i === 42 ? "note-042 'quoted' \\ id" : i === 77 ? 'note/077 ünïcode ✓' : `note-${String(i).padStart(3, '0')}`;
    doc.title = title;
    doc.text = body(topic, i % 12 === 0);
    doc.metadata = {
      author: pick(PEOPLE),
      team: { name: pick(TEAMS), oncall: rand() < 0.5 },
      tags: topic.tags.slice(0, between(1, 3)),
      year: between(2019, 2026),
    };
    lines.push(JSON.stringify(doc));
  }
  writeFileSync(join(dir, 'notes.jsonl'), `${lines.join('\n')}\n`);
}

function writeBad() {
  const dir = join(root, 'bad');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'empty.txt'), '   \n\n');
  writeFileSync(
    join(dir, 'invalid-utf8.md'),
    Buffer.concat([Buffer.from('# Bad bytes\n\nThese bytes are not UTF-8: '), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('\n')]),
  );
  writeFileSync(join(dir, 'long-title.md'), `# ${'T'.repeat(900)}\n\nThe heading above has 900 characters.\n`);
  const broken = [
    JSON.stringify({ id: 'bad-1', title: 'A valid line', text: 'The first line is fine.' }),
    '{"id": "bad-2", "title": "Broken line", "text": "this line is cut off',
    JSON.stringify({ id: 'bad-1', title: 'Duplicate id', text: 'Same id as line 1.' }),
    JSON.stringify({
      id: 'bad-4',
      title: 'Too deep',
      text: 'Metadata nested five levels.',
      metadata: { a: { b: { c: { d: { e: 1 } } } } },
    }),
    JSON.stringify({ id: 'bad-5', title: 'Valid after the errors', text: 'The stream went on.' }),
  ];
  writeFileSync(join(dir, 'broken.jsonl'), `${broken.join('\n')}\n`);
}

writeCorpus();
writeBad();
console.log(`wrote ${root}/corpus and ${root}/bad (seed ${SEED})`);
