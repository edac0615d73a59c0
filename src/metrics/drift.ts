// Cross-store drift: the violation counts by kind from the last verify run, as a gauge. Every
// kind gets a series (0 when clean), so "no drift" and "never verified" look different: the
// second has no apex_verify_last_run_timestamp_seconds.
import type { VerifyReport, ViolationKind } from '../ingest/verify.js';
import type { ApexMetrics } from './registry.js';

export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'orphan_data',
  'stale_version',
  'missing_version',
  'chunk_count',
  'cache_stale',
  'not_final',
  'leftover_version',
  'held',
  'schema_missing',
  'duplicate_node',
];

export function recordVerify(m: ApexMetrics, report: Pick<VerifyReport, 'violations'>, endedAt: number = Date.now()): void {
  const counts = new Map<string, number>(VIOLATION_KINDS.map((k) => [k, 0]));
  for (const v of report.violations) counts.set(v.kind, (counts.get(v.kind) ?? 0) + 1);
  for (const [kind, n] of counts) m.driftViolations.set({ kind }, n);
  m.verifyLastRun.set(endedAt / 1000);
}
