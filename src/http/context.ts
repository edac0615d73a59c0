// What the HTTP layer needs from the process: the app's engine, writer, stores and embedder, how
// it runs sagas (here, or queued for workers), its limits, and a little mutable state (draining,
// the last verify). Tests build this around an embedded app with injected faults.
import type { SearchHit } from '../ingest/read.js';
import type { IndexState } from '../ingest/reindex/state.js';
import type { ProfileDescription } from '../wiring.js';
import type { Embedder } from '../ingest/embedder.js';
import type { VerifyReport } from '../ingest/verify.js';
import type { MemoryWriter } from '../ingest/writer.js';
import type { SagaEngine, SagaLogBackend } from '../saga/index.js';
import type { StoreSet, VectorStore } from '../stores/types.js';
import type { SagaTimings } from './timings.js';

export interface ApiApp {
  engine: SagaEngine<SagaLogBackend>;
  writer: MemoryWriter;
  stores: StoreSet;
  embedder: Embedder;
  profile: { describe(): ProfileDescription };
  /** Search on the active index of a reindex (docs/reindex.md); absent: the stores' collection. */
  search?(query: string, limit: number): Promise<SearchHit[]>;
  /** The active index record (docs/reindex.md), for the overview; absent: no record. */
  index?: {
    record: { read(): Promise<{ state: IndexState } | undefined>; current(): Promise<{ state: IndexState }> };
    mismatch?: string;
    /** The write targets besides the active one (a reindex in progress): erasure checks them too. */
    targets?: { others(): Promise<Array<{ target: { collection: string }; store: VectorStore }>> };
  };
  /** The stores as reads see them now (Qdrant on the active index, docs/reindex.md); absent: `stores`. */
  readView?(): Promise<{ stores: StoreSet; chunking: number }>;
}

/** The app's read view, or its stores with the record's active chunking (apps without a view). */
export async function readViewOf(app: ApiApp): Promise<{ stores: StoreSet; chunking: number }> {
  if (app.readView) return app.readView();
  return { stores: app.stores, chunking: (await app.index?.record.current())?.state.active.chunking ?? 1 };
}

/** A Prometheus registry (prom-client's Registry has this shape). */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export interface ApiOptions {
  /** `run`: this process runs the sagas (embedded). `enqueue`: writes are queued for workers. */
  mode: 'run' | 'enqueue';
  /** Largest request body accepted, bytes. */
  maxBodyBytes: number;
  /** Bearer token; required off loopback. */
  token?: string;
  /** Origins allowed by CORS; empty = CORS off (no headers sent). They may also send writes. */
  corsOrigins: readonly string[];
  /** Host names answered besides loopback names (APEX_HTTP_ALLOWED_HOSTS; host-guard.ts). */
  allowedHosts: readonly string[];
  /** The address the server binds; undefined (in-process) counts as loopback. Set by listen.ts. */
  bindHost?: string;
  metrics?: MetricsSource;
  /** The seed's targets, shown beside the measured values on the overview. */
  targets: { successRate: number; compensationRate: number; p90Ms: number; p90AlertMs: number };
  /** Sagas the overview reads (one page of the log, newest first; at most MAX_PAGE = 10,000). */
  scanLimit: number;
  /** Called with every verify report the API produces (metrics: the drift gauge). */
  onVerify?: (report: VerifyReport) => void;
  /** Set while APEX_INJECT_FAULTS injects faults into these stores (a drill): /readyz and the dashboard say so. */
  faultDrill?: { stores: readonly string[] };
  /** Largest saga input returned by GET /v1/sagas/{id}, bytes of JSON. */
  maxInputBytes: number;
}

export const DEFAULT_API_OPTIONS: ApiOptions = {
  mode: 'run',
  // A document may carry 1 MiB of text; JSON escaping can make that up to ~6x larger.
  maxBodyBytes: 8 * 1024 * 1024,
  corsOrigins: [],
  allowedHosts: [],
  // Success above 99.5 %, compensation below 0.5 %, P90 below 1 s, alert when P90 passes 2 s.
  targets: { successRate: 0.995, compensationRate: 0.005, p90Ms: 1_000, p90AlertMs: 2_000 },
  scanLimit: 10_000,
  maxInputBytes: 16 * 1024,
};

export interface LastVerify {
  at: Date;
  report: VerifyReport;
}

export interface ApiState {
  draining: boolean;
  lastVerify: LastVerify | undefined;
  timings: SagaTimings;
}

export interface ApiContext {
  app: ApiApp;
  opts: ApiOptions;
  state: ApiState;
}
