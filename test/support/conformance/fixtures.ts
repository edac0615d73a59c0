// Shared fixtures for the store conformance suites: unique per-run ids, hostile strings, versions.
import { createHash, randomUUID } from 'node:crypto';
import type { Chunk, DocumentVersion, WriteContext } from '../../../src/stores/types.js';

/** Strings every store must keep verbatim (SQL/Cypher injection attempts, escapes, emoji, RTL). */
export const HOSTILE_STRINGS: readonly string[] = [
  `it's "quoted" \`back\``,
  'back\\slash \\n \\\\ \\x00-not-a-nul',
  "'); DROP TABLE documents; --",
  'MATCH (n) DETACH DELETE n',
  '${injection} {{template}} %s %n',
  'emoji 🧠🚀👩‍👩‍👧 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  'RTL: שלום עולם مرحبا بالعالم',
  'ctrl\ttab\r\nnewline \u2028 \u200b zero-width',
  '* ? [a-z] apex:doc:* glob',
];

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** A prefix unique to this run so suites sharing a server never touch each other's data. */
export function runPrefix(label: string): string {
  return `conf-${label}-${randomUUID().slice(0, 8)}-`;
}

export function ctxFor(sagaId: string, fencingToken = 1): WriteContext {
  return { sagaId, fencingToken };
}

/** A deterministic unit-ish embedding: mostly `seed`-dependent, never all zeros. */
export function embeddingFor(seed: number, dimension: number): number[] {
  const v: number[] = [];
  for (let i = 0; i < dimension; i += 1) v.push(Math.sin(seed * 7.13 + i * 1.7) + (i === seed % dimension ? 2 : 0));
  return v;
}

export interface VersionSpec {
  docId: string;
  body: string;
  chunkCount?: number;
  title?: string;
  entities?: (idx: number) => string[];
  dimension?: number;
  metadata?: Record<string, unknown>;
}

/** Builds a version whose sha is the SHA-256 of its body and whose chunks split the body evenly. */
export function makeVersion(spec: VersionSpec): DocumentVersion {
  const count = spec.chunkCount ?? 3;
  // Split by code points: a chunk never ends inside a surrogate pair (as a real chunker would not).
  const points = Array.from(spec.body);
  const size = Math.ceil(points.length / count) || 1;
  const chunks: Chunk[] = [];
  for (let idx = 0; idx < count; idx += 1) {
    chunks.push({
      idx,
      text: points.slice(idx * size, (idx + 1) * size).join(''),
      entities: spec.entities ? spec.entities(idx) : [`Entity ${idx % 2}`, `Topic ${idx}`],
      embedding: embeddingFor(idx + spec.body.length, spec.dimension ?? 8),
    });
  }
  return {
    docId: spec.docId,
    title: spec.title ?? `Title of ${spec.docId}`,
    contentSha256: sha256(spec.body),
    metadata: spec.metadata ?? { source: 'conformance', tags: ['a', 'b'] },
    chunks,
  };
}

/** A body of about `bytes` UTF-8 bytes mixing ASCII and multi-byte characters. */
export function largeBody(bytes: number): string {
  const unit = 'Lorem ipsum dolor sit amet — ünïcødé 🧠 ';
  return Array.from(unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))))
    .slice(0, bytes / 2)
    .join('')
    .padEnd(bytes, 'x');
}

/** The error a call rejected with (fails the test when it resolved). */
export async function rejectionOf(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to reject, it resolved');
}

/** Store harness: how a suite obtains a connected adapter and, where possible, a cut connection. */
export interface StoreHarness<S> {
  label: string;
  open(): Promise<S>;
  /**
   * Runs `write` on a second adapter instance whose connection is cut while the call is in flight,
   * and returns what that call rejected with. Absent for in-process engines (no connection to cut).
   */
  dropMidCall?: (write: (store: S) => Promise<unknown>) => Promise<unknown>;
  /**
   * Like dropMidCall, but the connection goes silent instead (a partition): the call must end
   * with STORE_TIMEOUT within its configured limit, not hang.
   */
  stallMidCall?: (write: (store: S) => Promise<unknown>) => Promise<unknown>;
  /** An adapter instance (not connected) pointed at a port where no server listens. */
  unreachable?: () => S;
}

/** Asserts a store error that the saga engine will retry (connection-level failure). */
export function isRetryableStoreFailure(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; retryable?: unknown };
  return e.name === 'StoreError' && e.retryable === true && (e.code === 'STORE_TRANSIENT' || e.code === 'STORE_TIMEOUT');
}

export interface Interruption<S> {
  title: string;
  docName: string;
  run: (write: (store: S) => Promise<unknown>) => Promise<unknown>;
  /** Whether the error is what the saga engine needs to see for this kind of interruption. */
  accepts: (err: unknown) => boolean;
  /** Why the case is skipped for this harness (it cannot inject the fault), or false. */
  skip: string | false;
}

const cannot =
  (what: string): (() => Promise<unknown>) =>
  () =>
    Promise.reject(new Error(`this harness cannot ${what}`));

/**
 * The mid-call interruptions: a cut connection and a silent one. Both are always registered, so
 * a harness that cannot inject one shows it as skipped (with the reason) instead of dropping it.
 */
export function interruptions<S>(harness: StoreHarness<S>): Array<Interruption<S>> {
  return [
    {
      title: 'a connection cut mid-call reports a transient error and writes nothing',
      docName: 'dropped',
      run: harness.dropMidCall ?? cannot('cut a connection mid-call'),
      accepts: isRetryableStoreFailure,
      skip: harness.dropMidCall ? false : `${harness.label} has no network connection to cut (in-process engine or no fault hook)`,
    },
    {
      title: 'a connection that goes silent mid-call ends with STORE_TIMEOUT and writes nothing',
      docName: 'stalled',
      run: harness.stallMidCall ?? cannot('stall a connection mid-call'),
      accepts: (err) => isRetryableStoreFailure(err) && (err as { code?: unknown }).code === 'STORE_TIMEOUT',
      skip: harness.stallMidCall ? false : `${harness.label} has no network connection to stall (in-process engine or no fault hook)`,
    },
  ];
}

/** Test options for a case that only some backends support: skipped with the reason elsewhere. */
export function onlyWhen(supported: unknown, reason: string): { skip: string | false } {
  return { skip: supported ? false : reason };
}
