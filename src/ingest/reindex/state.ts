// The active index record's state machine (docs/reindex.md). Pure: no store, no clock. The record
// (record.ts) stores one IndexState in PostgreSQL with a version number, and every change is a
// compare-and-set from the version read, so two operators (or a re-run after SIGKILL) never both
// apply a transition.
//
//   steady    active serves reads and writes; nothing else exists.
//   migrating active serves reads; `next` is being built (reindex sagas) and dual-written.
//   switched  `active` (the former next) serves reads; `previous` is still dual-written so that
//             --rollback restores reads at once, until --finish drops it.
import { markError } from '../../lib/errors.js';
import { CHUNK_MAX_CHARS, CHUNK_TARGET_CHARS } from '../limits.js';

/** The chunking every deployment started with (chunkText's defaults). */
export const CHUNKING_VERSION = 1;

/** What a chunking is: chunkText's parameters (docs/reindex.md "Re-chunking"). */
export interface ChunkingParams {
  targetChars: number;
  maxChars: number;
}

export const DEFAULT_CHUNKING: Readonly<ChunkingParams> = Object.freeze({ targetChars: CHUNK_TARGET_CHARS, maxChars: CHUNK_MAX_CHARS });

/** Bounds of a chunking's parameters: below, chunks carry too little text to embed usefully (and a
 * document would need thousands of them); above, more than embedders take in one input. */
export const CHUNK_CHARS_MIN = 64;
export const CHUNK_CHARS_MAX = 16_384;

/** What one derived vector index is: which embedder made its vectors, and where they live. */
export interface IndexTarget {
  /** Embedder kind: 'hashing' or 'openai' (EMBEDDER). */
  embedder: string;
  /** Embedder.name, e.g. "hashing-256" or "openai:text-embedding-3-small@host". */
  model: string;
  dimension: number;
  /** Chunking version of the data contract: 1, or one of the record's `chunkings`. */
  chunking: number;
  /** Physical collection name (Qdrant collection, or the embedded stand-in's). */
  collection: string;
}

export type IndexPhase = 'steady' | 'migrating' | 'switched';

export interface IndexState {
  phase: IndexPhase;
  active: IndexTarget;
  next: IndexTarget | null;
  previous: IndexTarget | null;
  /** Counter for versioned collection names (`<base>_v<generation>`). */
  generation: number;
  /** Collections no target names any more, still to drop (finish, abandoned migration). */
  retired?: string[];
  /** The parameters of every chunking version but 1 (which is DEFAULT_CHUNKING), so that every
   * process cuts new writes for each target exactly as the target was built. Kept after a
   * chunking is retired: its number is never reused for other parameters. */
  chunkings?: Record<string, ChunkingParams>;
  /** Chunkings no target names any more whose chunks (PostgreSQL rows, graph nodes) are still to
   * remove (finish, abandoned migration; a re-run of --finish removes what a crash left). */
  retiredChunkings?: number[];
}

export type ReindexErrorCode =
  | 'REINDEX_CONFLICT'
  | 'REINDEX_PHASE'
  | 'REINDEX_UNSUPPORTED'
  | 'REINDEX_VERIFY_FAILED'
  | 'REINDEX_INVALID'
  | 'INDEX_MISMATCH'
  | 'INDEX_RECORD_INVALID';

/** Typed errors of the reindex (stable codes; the CLI maps them to exit codes). */
export class ReindexError extends Error {
  readonly retryable = false;
  constructor(
    readonly code: ReindexErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ReindexError';
    markError(this);
  }
}

export function initialState(active: IndexTarget): IndexState {
  return { phase: 'steady', active, next: null, previous: null, generation: 1 };
}

export function describeTarget(t: IndexTarget): string {
  return `${t.model} (dimension ${t.dimension}, chunking v${t.chunking}) in ${t.collection}`;
}

/** Same embedder, model, dimension and chunking (the collection is where, not what). */
export function sameContent(a: Omit<IndexTarget, 'collection'>, b: Omit<IndexTarget, 'collection'>): boolean {
  return a.embedder === b.embedder && a.model === b.model && a.dimension === b.dimension && a.chunking === b.chunking;
}

/**
 * Starts (or resumes) a migration to `wanted` (its collection is chosen here). Resuming the same
 * target is a no-op; another target while one is in progress is refused.
 */
export function startMigration(s: IndexState, wanted: Omit<IndexTarget, 'collection'>, base: string): IndexState {
  if (s.phase === 'migrating' && s.next) {
    if (sameContent(s.next, wanted)) return s;
    throw new ReindexError(
      'REINDEX_CONFLICT',
      `a reindex to ${describeTarget(s.next)} is in progress; re-run it with the same settings to resume, or \`reindex --rollback\` to abandon it, before starting another (asked for ${wanted.model}, dimension ${wanted.dimension}, chunking v${wanted.chunking})`,
    );
  }
  if (s.phase === 'switched') {
    throw new ReindexError(
      'REINDEX_PHASE',
      'the last reindex was switched but not finished: run `reindex --finish` (or `--rollback`) first',
    );
  }
  if (sameContent(s.active, wanted)) {
    throw new ReindexError('REINDEX_CONFLICT', `the active index already is ${describeTarget(s.active)}: nothing to reindex`);
  }
  const generation = s.generation + 1;
  return { ...s, phase: 'migrating', next: { ...wanted, collection: `${base}_v${generation}` }, previous: null, generation };
}

/** Reads move to `next`; the old active stays dual-written as `previous` (for --rollback). */
export function switchTo(s: IndexState): IndexState {
  if (s.phase === 'switched') return s; // a re-run after a half-done switch (the alias is repaired by the caller)
  if (s.phase !== 'migrating' || !s.next) throw new ReindexError('REINDEX_PHASE', 'no reindex in progress: nothing to switch to');
  return { ...s, phase: 'switched', active: s.next, previous: s.active, next: null };
}

/** After a switch: reads go back to the previous index (still dual-written), which becomes active
 * again while the new one stays `next`. During a migration: abandons it (the caller drops next). */
export function rollback(s: IndexState): IndexState {
  if (s.phase === 'switched' && s.previous) return { ...s, phase: 'migrating', active: s.previous, next: s.active, previous: null };
  if (s.phase === 'migrating') return { ...s, phase: 'steady', next: null, previous: null };
  throw new ReindexError('REINDEX_PHASE', 'nothing to roll back: no reindex is in progress or switched');
}

/** Ends dual writes to the previous index (the caller drops its collection afterwards). */
export function finish(s: IndexState): IndexState {
  if (s.phase === 'steady') return s; // a re-run: the caller drops leftovers
  if (s.phase !== 'switched') throw new ReindexError('REINDEX_PHASE', '`reindex --finish` needs a switched reindex (run `--switch` first)');
  return { ...s, phase: 'steady', previous: null, next: null };
}

/** Checks a chunking's parameters; the error names the flag (or field) and the limit. */
export function checkChunkingParams(p: ChunkingParams, names = { target: '--chunk-target-chars', max: '--chunk-max-chars' }): void {
  for (const [name, v] of [
    [names.target, p.targetChars],
    [names.max, p.maxChars],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < CHUNK_CHARS_MIN || v > CHUNK_CHARS_MAX)
      throw new ReindexError(
        'REINDEX_INVALID',
        `${name} must be an integer from ${CHUNK_CHARS_MIN} to ${CHUNK_CHARS_MAX} (got ${String(v)})`,
      );
  }
  if (p.targetChars > p.maxChars)
    throw new ReindexError('REINDEX_INVALID', `${names.target} (${p.targetChars}) must not exceed ${names.max} (${p.maxChars})`);
}

/** The parameters of chunking `version` as the record gives them. */
export function chunkingParams(s: IndexState, version: number): ChunkingParams {
  if (version === CHUNKING_VERSION) return { ...DEFAULT_CHUNKING };
  const p = s.chunkings?.[String(version)];
  if (!p) throw new ReindexError('INDEX_RECORD_INVALID', `the active index record names chunking v${version} without its parameters`);
  return { ...p };
}

/**
 * The chunking version of `p`: an existing one with the same parameters, else a new one (the
 * highest known + 1) recorded in the returned state. The same state object when nothing is new.
 */
export function chunkingFor(s: IndexState, p: ChunkingParams): { state: IndexState; chunking: number } {
  checkChunkingParams(p);
  const same = (q: ChunkingParams): boolean => q.targetChars === p.targetChars && q.maxChars === p.maxChars;
  if (same(DEFAULT_CHUNKING)) return { state: s, chunking: CHUNKING_VERSION };
  const known = Object.entries(s.chunkings ?? {});
  const found = known.find(([, q]) => same(q));
  if (found) return { state: s, chunking: Number(found[0]) };
  const chunking = Math.max(CHUNKING_VERSION, ...known.map(([k]) => Number(k))) + 1;
  return {
    state: { ...s, chunkings: { ...s.chunkings, [String(chunking)]: { targetChars: p.targetChars, maxChars: p.maxChars } } },
    chunking,
  };
}

/** The chunkings that writes must produce now (each target's), active first, without repeats. */
export function liveChunkings(s: IndexState): number[] {
  return [...new Set(writeTargets(s).map((t) => t.chunking))];
}

/** Every target that writes must reach, active first. */
export function writeTargets(s: IndexState): IndexTarget[] {
  return [s.active, ...(s.next ? [s.next] : []), ...(s.previous ? [s.previous] : [])];
}

/** Parses a stored record; a malformed one is an error naming what is wrong (never guessed at). */
export function parseState(raw: unknown): IndexState {
  const bad = (what: string): never => {
    throw new ReindexError('INDEX_RECORD_INVALID', `the active index record in PostgreSQL (table index_state) is invalid: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) return bad('not an object');
  const r = raw as Record<string, unknown>;
  const phase = r.phase;
  if (phase !== 'steady' && phase !== 'migrating' && phase !== 'switched') return bad(`phase ${JSON.stringify(phase)}`);
  const target = (v: unknown, name: string): IndexTarget => {
    if (typeof v !== 'object' || v === null) return bad(`${name} missing`);
    const t = v as Record<string, unknown>;
    if (typeof t.embedder !== 'string' || typeof t.model !== 'string' || typeof t.collection !== 'string') return bad(`${name} fields`);
    if (!Number.isSafeInteger(t.dimension) || !Number.isSafeInteger(t.chunking)) return bad(`${name} dimension or chunking`);
    return {
      embedder: t.embedder,
      model: t.model,
      dimension: t.dimension as number,
      chunking: t.chunking as number,
      collection: t.collection,
    };
  };
  const generation = Number.isSafeInteger(r.generation) ? (r.generation as number) : 1;
  const retired = Array.isArray(r.retired) ? r.retired.filter((c): c is string => typeof c === 'string') : [];
  const chunkings = parseChunkings(r.chunkings, bad);
  const retiredChunkings = Array.isArray(r.retiredChunkings)
    ? r.retiredChunkings.filter((k): k is number => Number.isSafeInteger(k) && (k as number) >= 1)
    : [];
  const state: IndexState = {
    ...(retired.length > 0 ? { retired } : {}),
    ...(chunkings ? { chunkings } : {}),
    ...(retiredChunkings.length > 0 ? { retiredChunkings } : {}),
    phase,
    active: target(r.active, 'active'),
    next: r.next == null ? null : target(r.next, 'next'),
    previous: r.previous == null ? null : target(r.previous, 'previous'),
    generation,
  };
  for (const t of writeTargets(state)) {
    if (t.chunking !== CHUNKING_VERSION && !chunkings?.[String(t.chunking)])
      return bad(`target ${t.collection} names chunking v${t.chunking}, whose parameters are not recorded`);
  }
  return state;
}

function parseChunkings(raw: unknown, bad: (what: string) => never): Record<string, ChunkingParams> | undefined {
  if (raw == null) return undefined;
  if (typeof raw !== 'object') return bad('chunkings is not an object');
  const out: Record<string, ChunkingParams> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
    const version = Number(k);
    if (!Number.isSafeInteger(version) || version < 2 || String(version) !== k) return bad(`chunkings key ${JSON.stringify(k)}`);
    const p = (typeof v === 'object' && v !== null ? v : {}) as Record<string, unknown>;
    const params = { targetChars: p.targetChars as number, maxChars: p.maxChars as number };
    try {
      checkChunkingParams(params, { target: `chunkings.${k}.targetChars`, max: `chunkings.${k}.maxChars` });
    } catch (err) {
      return bad(err instanceof Error ? err.message : String(err));
    }
    out[k] = params;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
