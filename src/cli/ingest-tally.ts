// What an ingest run did, document by document: counts by outcome, the failures (with source,
// code and message, and for bad input the field and limit), and the latency of every write that
// ran a saga. `summary()` is the shape printed as a table and as --json.
import type { DocumentError } from '../ingest/errors.js';
import type { WriteResult } from '../ingest/writer.js';
import { redactCredentials } from '../lib/redact.js';
import { describeError } from './errors.js';

export type FailureKind = 'rejected' | 'compensated' | 'stuck' | 'error';

export interface DocumentFailure {
  kind: FailureKind;
  source: string;
  docId?: string;
  code: string;
  message: string;
  /** For rejected input: the field and the limit it broke. */
  field?: string;
  limit?: string;
  sagaId?: string;
}

export interface IngestSummary {
  completed: number;
  created: number;
  updated: number;
  unchanged: number;
  compensated: number;
  stuck: number;
  rejected: number;
  /** Writes that threw instead of ending a saga (a store unreachable before the saga began). */
  errors: number;
  latencyMs: { sagas: number; p50: number | null; p90: number | null; p99: number | null };
  docsPerSecond: number;
  wallTimeMs: number;
  interrupted: boolean;
}

export class IngestTally {
  created = 0;
  updated = 0;
  unchanged = 0;
  compensated = 0;
  stuck = 0;
  rejected = 0;
  errors = 0;
  interrupted = false;
  readonly failures: DocumentFailure[] = [];
  private readonly latencies: number[] = [];
  private readonly startedAt = performance.now();
  private endedAt: number | undefined;

  get processed(): number {
    return this.completed + this.compensated + this.stuck + this.rejected + this.errors;
  }

  get failed(): number {
    return this.compensated + this.stuck + this.rejected + this.errors;
  }

  get completed(): number {
    return this.created + this.updated + this.unchanged;
  }

  addRejected(source: string, error: DocumentError): void {
    this.rejected++;
    const f: DocumentFailure = { kind: 'rejected', source, code: error.code, message: error.message, field: error.field };
    if (error.limit !== undefined) f.limit = error.limit;
    this.failures.push(f);
  }

  addError(source: string, docId: string, err: unknown): void {
    this.errors++;
    const d = describeError(err);
    this.failures.push({ kind: 'error', source, docId, code: d.code, message: d.message });
  }

  addResult(source: string, r: WriteResult): void {
    if (r.status !== 'skipped') this.latencies.push(r.durationMs);
    if (r.status === 'completed' || r.status === 'skipped') {
      if (r.action === 'created') this.created++;
      else if (r.action === 'updated') this.updated++;
      else this.unchanged++;
      return;
    }
    if (r.status === 'compensated') this.compensated++;
    else this.stuck++;
    const f: DocumentFailure = {
      kind: r.status,
      source,
      docId: r.docId,
      code: r.reason?.code ?? 'SAGA_FAILED',
      message: r.reason ? redactCredentials(r.reason.message) : `saga ended ${r.status}`,
    };
    if (r.sagaId !== undefined) f.sagaId = r.sagaId;
    this.failures.push(f);
  }

  finish(): this {
    this.endedAt = performance.now();
    return this;
  }

  summary(): IngestSummary {
    const wall = (this.endedAt ?? performance.now()) - this.startedAt;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      completed: this.completed,
      created: this.created,
      updated: this.updated,
      unchanged: this.unchanged,
      compensated: this.compensated,
      stuck: this.stuck,
      rejected: this.rejected,
      errors: this.errors,
      latencyMs: { sagas: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) },
      docsPerSecond: wall > 0 ? round((this.completed * 1000) / wall) : 0,
      wallTimeMs: round(wall),
      interrupted: this.interrupted,
    };
  }

  /** Exit status: anything stuck, compensated (not written), rejected or failed is a failure. */
  get ok(): boolean {
    return this.failed === 0 && !this.interrupted;
  }
}

/** Nearest-rank percentile of an ascending array; null when empty. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  const v = sorted[Math.min(rank, sorted.length) - 1];
  return v === undefined ? null : round(v);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
