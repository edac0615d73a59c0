// Medians per (name, concurrency) of a JSONL file of bench rows, and the engine/floor ratios.
import { readFileSync } from 'node:fs';

const rows = readFileSync(process.argv[2], 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
const groups = new Map();
for (const r of rows) {
  const key = `${r.name} c=${r.concurrency}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const med = new Map();
console.log('\nrow                               runs  sagas/s   p50 ms   p99 ms');
for (const [key, rs] of groups) {
  const m = { tp: median(rs.map((r) => r.throughput_per_s)), p50: median(rs.map((r) => r.p50_ms)), p99: median(rs.map((r) => r.p99_ms)) };
  med.set(key, m);
  console.log(
    `${key.padEnd(34)}${String(rs.length).padStart(4)}${m.tp.toFixed(0).padStart(10)}${m.p50.toFixed(2).padStart(9)}${m.p99.toFixed(1).padStart(9)}`,
  );
}
const ratio = (a, b, f, label) => {
  const x = med.get(a);
  const y = med.get(b);
  if (x && y) console.log(`${label}: ${(f(x) / f(y)).toFixed(2)}`);
};
console.log('');
if (![...med.keys()].some((k) => k.startsWith('floor ')))
  console.log('no floor rows (the anchors are absent): engine/floor ratios not computed');
ratio(
  'apex-engine sqlite c=1',
  'floor sqlite-per-record c=1',
  (m) => m.p50,
  'engine sqlite c=1 p50 / floor sqlite-per-record c=1 p50 (goal <= 1.3)',
);
ratio(
  'apex-engine sqlite c=64',
  'floor sqlite-group c=64',
  (m) => m.tp,
  'engine sqlite c=64 throughput / floor sqlite-group c=64 throughput',
);
ratio('apex-engine postgres c=64', 'floor pg-group c=64', (m) => m.tp, 'engine postgres c=64 throughput / floor pg-group c=64 throughput');
