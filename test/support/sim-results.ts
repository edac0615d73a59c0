// Where the reliability tests leave their figures (test-artifacts/reliability/<name>.json, git-
// ignored); `npm run reliability:report` turns the latest ones into docs/RELIABILITY.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const RESULTS_DIR = resolve(import.meta.dirname, '../../test-artifacts/reliability');

/** RELIABILITY_SCALE (default 1): multiplies the counts of the reliability tests for longer runs. */
export function reliabilityScale(): number {
  const raw = process.env.RELIABILITY_SCALE;
  if (raw === undefined || raw === '') return 1;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`RELIABILITY_SCALE must be a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

export function writeResult(name: string, figures: Record<string, unknown>): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const record = { name, at: new Date().toISOString(), scale: reliabilityScale(), ...figures };
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(record, null, 2)}\n`);
}
