// Deterministic documents of a few KB for the server benches: prose with capitalized names (the
// entity extractor's input), so every store gets realistic chunks, entities and vectors.
import { seededRandom } from '../src/saga/index.js';
import type { ValidDocument } from '../src/ingest/schema.js';

const WORDS =
  'saga store write commit durable replica index vector graph cache chunk entity version lease token fence group record latency throughput queue worker'.split(
    ' ',
  );
const NAMES = 'Postgres Neo4j Qdrant Redis Ada Grace Linus Barbara Edsger Leslie Tony Donald Margaret Ken Dennis Niklaus'.split(' ');

export function benchDocs(prefix: string, n: number, seed: number, bytes = 3000): ValidDocument[] {
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const docs: ValidDocument[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    let len = 0;
    while (len < bytes) {
      const sentence = Array.from({ length: 12 }, (_, k) => (k % 5 === 2 ? pick(NAMES) : pick(WORDS))).join(' ') + '.';
      parts.push(sentence);
      len += sentence.length + 1;
    }
    docs.push({ id: `${prefix}-${i}`, title: `Bench document ${i}`, text: parts.join(' '), metadata: { bench: prefix } });
  }
  return docs;
}

/** The bench documents as a JSONL corpus for `apex-memory ingest` (the backfill of bench/throughput.sh). */
export async function writeCorpus(path: string, n: number, seed: number): Promise<{ name: string; n: number; path: string }> {
  const { createWriteStream } = await import('node:fs');
  const out = createWriteStream(path);
  const chunk = 1_000;
  for (let from = 0; from < n; from += chunk) {
    const docs = benchDocs(`backfill-${seed}-${from}`, Math.min(chunk, n - from), seed + from);
    const ok = out.write(docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    if (!ok) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { name: 'corpus', n, path };
}
