// The Markdown tables of BENCHMARKS.md's "Reindex" section from reindex bench rows (JSON lines of
// `main.js reindex`, bench/reindex.sh): the reindex rate per profile and concurrency (medians when
// repeated), the write path per phase and round, and the ratios (migrating / steady per round with
// their median; switched / the median steady).
//   node bench/reindex-table.mjs bench/results/reindex-*.jsonl
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/reindex-table.mjs <rows.jsonl>...');
  process.exit(2);
}
const rows = files.flatMap((f) =>
  readFileSync(f, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => ({ ...JSON.parse(l), session: basename(f, '.jsonl') })),
);
const median = (xs) => {
  const s = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  if (s.length === 0) return undefined;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const fmt = (x, d = 1) =>
  x === undefined || x === null ? '' : Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const load = (r) => `${fmt(r.load_start)} / ${fmt(r.load_end)}`;
const out = [];
const table = (head, body) => {
  out.push(`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`);
  for (const r of body) out.push(`| ${r.join(' | ')} |`);
  out.push('');
};

for (const m of rows.filter((r) => r.name === 'machine')) {
  out.push(
    `Session \`${m.session}\`: ${m.cores} cores (${m.cpu}), ${m.memory_gb} GB, Node ${m.node}; PostgreSQL ${m.postgresql ?? 'n/a'}, ${m.neo4j ?? 'Neo4j n/a'}, Redis ${m.redis ?? 'n/a'}, Qdrant: ${m.qdrant ?? 'n/a'}; PGlite ${m.pglite} (${m.date}).`,
    '',
  );
}
const profiles = [...new Set(rows.filter((r) => r.bench === 'reindex').map((r) => r.profile))];

out.push('Reindex rate (the reindex loop alone, hashing-256 -> hashing-384):', '');
const rate = [];
for (const p of profiles) {
  const seed = rows.filter((r) => r.name === `reindex seed ${p}`);
  const cs = [...new Set(rows.filter((r) => r.name === `reindex rate ${p}`).map((r) => r.concurrency))].sort((a, b) => a - b);
  for (const c of cs) {
    const rs = rows.filter((r) => r.name === `reindex rate ${p}` && r.concurrency === c);
    rate.push([
      p,
      c,
      rs.length,
      fmt(median(rs.map((r) => r.n)), 0),
      `**${fmt(median(rs.map((r) => r.throughput_per_s)))}**`,
      fmt(median(rs.map((r) => r.seconds))),
      rs.map(load).join('; '),
      fmt(median(seed.map((r) => r.throughput_per_s))),
    ]);
  }
}
table(['profile', 'reindex c', 'runs', 'documents', 'docs/s', 'seconds', 'load avg start / end', 'seeding ingest docs/s (c=16)'], rate);

out.push('The write path (updates 4 of 5, new documents 1 of 5) per phase, in the order run:', '');
const phases = rows.filter((r) => r.bench === 'reindex' && r.phase !== undefined);
table(
  [
    'session',
    'profile',
    'phase',
    'round',
    'writes',
    'docs/s',
    'p50 ms',
    'p90 ms',
    'p99 ms',
    'errors',
    'reindex docs/s meanwhile',
    'load avg start / end',
  ],
  phases.map((r) => [
    r.session,
    r.profile,
    r.phase,
    r.round || '',
    r.n,
    fmt(r.throughput_per_s),
    fmt(r.p50_ms),
    fmt(r.p90_ms),
    fmt(r.p99_ms),
    r.errors,
    r.reindex_docs_per_s === undefined
      ? ''
      : `${fmt(r.reindex_docs_per_s)} (c=${r.reindex_concurrency})${r.reindex_finished_first ? ' finished first' : ''}`,
    load(r),
  ]),
);

out.push('Ratios (each migrating phase over the steady phase just before it, in the same run):', '');
const ratioRows = [];
for (const p of profiles) {
  const mig = rows.filter((r) => r.name === `reindex write ${p} migrating/steady`);
  for (const r of mig)
    ratioRows.push([
      p,
      `migrating / steady, ${r.session} round ${r.round}`,
      fmt(r.p50_ratio, 2),
      fmt(r.p90_ratio, 2),
      fmt(r.p99_ratio, 2),
      fmt(r.docs_per_s_ratio, 2),
    ]);
  if (mig.length > 1) {
    const m = (k) => `**${fmt(median(mig.map((r) => r[k])), 2)}**`;
    ratioRows.push([
      p,
      `migrating / steady, median of ${mig.length}`,
      m('p50_ratio'),
      m('p90_ratio'),
      m('p99_ratio'),
      m('docs_per_s_ratio'),
    ]);
  }
  for (const r of rows.filter((x) => x.name === `reindex write ${p} switched/steady`))
    ratioRows.push([
      p,
      `switched / median steady, ${r.session}`,
      fmt(r.p50_ratio, 2),
      fmt(r.p90_ratio, 2),
      fmt(r.p99_ratio, 2),
      fmt(r.docs_per_s_ratio, 2),
    ]);
}
table(['profile', 'ratio', 'p50', 'p90', 'p99', 'docs/s'], ratioRows);
const openai = rows.filter((r) => r.name?.startsWith('reindex openai'));
if (openai.length > 0) {
  out.push('Reindex to the OpenAI-compatible embedder (local fake server):', '');
  table(
    [
      'session',
      'profile',
      'reindex c',
      'documents',
      'docs/s',
      'requests / document',
      'inputs / document',
      'provider',
      'load avg start / end',
    ],
    openai.map((r) => [
      r.session,
      r.profile,
      r.concurrency,
      r.n,
      fmt(r.throughput_per_s),
      fmt(r.requests_per_doc, 3),
      fmt(r.inputs_per_doc, 2),
      r.provider,
      load(r),
    ]),
  );
}
console.log(out.join('\n'));
