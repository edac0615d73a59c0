// Chunkings of the active index record as the sagas use them (docs/reindex.md "Re-chunking"):
// which chunkings a write must produce now (each target's: dual writes while a re-chunking
// reindex runs or is switched but not finished), which one reads and the cache use (the active
// target's), and with which chunkText parameters each is cut. The record is self-describing, so
// every process cuts a target's chunks with exactly the parameters the target was built with.
import { chunkText } from '../chunk.js';
import type { IngestLimits } from '../limits.js';
import { CHUNKING_VERSION, chunkingParams, liveChunkings, type ChunkingParams, type IndexState } from './state.js';
import type { VectorTargets } from './targets.js';

export interface ChunkingPlan {
  /** The active target's chunking: what reads, the cache entry and verify count. */
  active: number;
  /** Every chunking writes must produce now, active first. */
  all: number[];
  /** chunkText limits of chunking `k`, over the process's other limits. */
  limits(k: number): Partial<IngestLimits>;
}

/** chunkText limits of `k` per the record; chunking 1 keeps the process's limits as they are. */
export function limitsOf(state: IndexState | undefined, k: number, base: Partial<IngestLimits> = {}): Partial<IngestLimits> {
  if (k === CHUNKING_VERSION || !state) return base;
  const p = chunkingParams(state, k);
  return { ...base, chunkTargetChars: p.targetChars, chunkMaxChars: p.maxChars };
}

export function planOf(state: IndexState | undefined, base: Partial<IngestLimits> = {}): ChunkingPlan {
  if (!state) return { active: CHUNKING_VERSION, all: [CHUNKING_VERSION], limits: () => base };
  return { active: state.active.chunking, all: liveChunkings(state), limits: (k) => limitsOf(state, k, base) };
}

/** The plan per the record (read through its cache); chunking 1 alone without targets (unit tests). */
export async function chunkingPlan(targets: VectorTargets | undefined, base: Partial<IngestLimits> = {}): Promise<ChunkingPlan> {
  if (!targets) return planOf(undefined, base);
  return planOf((await targets.record.current()).state, base);
}

/**
 * A committed version cut again with other parameters. PostgreSQL's chunks are the only copy of a
 * document's text (the front's staged content goes when its saga ends), so a re-chunking reindex
 * cuts the serving chunking's chunks joined by paragraph breaks: a chunk boundary reads as a
 * paragraph boundary (whitespace at a cut was dropped by the first cut; no other character is
 * lost or added).
 */
export function rechunk(texts: readonly string[], p: ChunkingParams): string[] {
  return chunkText(texts.join('\n\n'), { chunkTargetChars: p.targetChars, chunkMaxChars: p.maxChars });
}
