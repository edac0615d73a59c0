// The operator's transitions of a reindex (docs/reindex.md), each one compare-and-set on the
// active index record (state.ts) followed by the server-side effects it implies, written so that
// a re-run after a crash between the two repairs the effect:
//   start    record (migrating, next) -> create the next collection
//   switch   verify -> record (switched) -> alias `<base>_live` to the new collection
//   rollback record -> alias back (after a switch), or drop the abandoned collection (before)
//   finish   record (steady, retired) -> wait out the record cache -> drop retired -> clear them
import type { StoreSet, VectorStore } from '../../stores/types.js';
import { compareTarget, type TargetProblem } from './compare.js';
import { settleInFlight } from './switch-gate.js';
import { RECORD_CACHE_MS, type IndexRecord, type VersionedState } from './record.js';
import {
  CHUNKING_VERSION,
  ReindexError,
  chunkingFor,
  finish,
  liveChunkings,
  writeTargets,
  rollback,
  startMigration,
  switchTo,
  type ChunkingParams,
  type IndexState,
  type IndexTarget,
} from './state.js';

export const DEFAULT_VECTOR_COLLECTION = 'apex_chunks';

/** The alias readers outside this process use; it always names the active collection. */
export function liveAlias(base: string): string {
  return `${base}_live`;
}

export interface ControlDeps {
  stores: StoreSet;
  record: IndexRecord;
  /** Any vector store of the deployment's client (collections and aliases are managed through it). */
  vectors: VectorStore;
  base: string;
  sleep?: (ms: number) => Promise<void>;
  /** How long --switch waits for sagas in flight on documents verify found not current (switch-gate.ts). */
  switchWaitMs?: number;
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Points the live alias at the active collection when it points elsewhere (or nowhere). */
export async function ensureLiveAlias(deps: ControlDeps, state: IndexState): Promise<void> {
  const alias = liveAlias(deps.base);
  const found = (await deps.vectors.listAliases()).find((a) => a.alias === alias);
  if (found?.collection !== state.active.collection) await deps.vectors.setAlias(alias, state.active.collection);
}

/**
 * Starts (or resumes: same target) a migration; the next collection exists afterwards. With
 * `chunking`, the target's chunking is the version of those parameters (a new one is recorded).
 */
export async function startReindex(
  deps: ControlDeps,
  wanted: Omit<IndexTarget, 'collection'>,
  chunking?: ChunkingParams,
): Promise<VersionedState> {
  const cur = await deps.record.change((s) => {
    if (!chunking) return startMigration(s, wanted, deps.base);
    const c = chunkingFor(s, chunking);
    const started = startMigration(c.state, { ...wanted, chunking: c.chunking }, deps.base);
    if (started === c.state) return s; // resumed: nothing new
    // A chunking retired but not yet removed is wanted again: it is live, not to remove.
    const left = (started.retiredChunkings ?? []).filter((k) => k !== c.chunking);
    const { retiredChunkings: _was, ...rest } = started;
    return left.length > 0 ? { ...rest, retiredChunkings: left } : rest;
  });
  const next = cur.state.next;
  if (!next) throw new ReindexError('REINDEX_PHASE', 'the record has no next target after starting a reindex');
  await deps.vectors.ensureCollection(next.collection, next.dimension);
  await ensureLiveAlias(deps, cur.state);
  return cur;
}

export async function verifyNext(
  deps: ControlDeps,
  state: IndexState,
): Promise<{ committed: number; current: number; problems: TargetProblem[] }> {
  const next = state.next;
  if (!next) throw new ReindexError('REINDEX_PHASE', 'no reindex in progress: nothing to verify');
  const store = deps.vectors.withCollection(next.collection, next.dimension);
  return compareTarget(deps.stores, store, {
    dimension: next.dimension,
    collection: next.collection,
    chunking: next.chunking,
    ...(next.chunking !== state.active.chunking ? { graph: deps.stores.neo4j } : {}),
  });
}

/** Refuses unless the next target verifies; flips the record, then the alias (a re-run repairs it). */
export async function switchReindex(deps: ControlDeps): Promise<VersionedState> {
  const cur = await deps.record.read();
  if (!cur) throw new ReindexError('REINDEX_PHASE', 'no active index record');
  if (cur.state.phase === 'migrating') {
    const report = await verifyNext(deps, cur.state);
    // Documents of sagas in flight are checked again once those sagas ended (switch-gate.ts).
    const problems = await settleInFlight(deps, cur.state, report.problems);
    if (problems.length > 0) {
      throw new ReindexError(
        'REINDEX_VERIFY_FAILED',
        `the new index is not complete (${problems.length} problem(s), e.g. ${problems
          .slice(0, 3)
          .map((p) => `${p.docId || '-'}: ${p.detail}`)
          .join('; ')}): run \`apex-memory reindex\` with the same settings, then \`--switch\` again`,
      );
    }
  }
  const after = await deps.record.change(switchTo);
  await ensureLiveAlias(deps, after.state);
  return after;
}

export async function rollbackReindex(deps: ControlDeps): Promise<VersionedState> {
  const after = await deps.record.change((s) => {
    const r = rollback(s);
    // An abandoned migration's collection is retired (dropped below; a re-run of --finish too),
    // and so is its chunking when no other target uses it.
    return s.phase === 'migrating' && s.next ? retire({ ...r, retired: [...retiredOf(s), s.next.collection] }, s.next.chunking) : r;
  });
  await ensureLiveAlias(deps, after.state);
  if (after.state.phase === 'steady') return dropRetired(deps);
  return after;
}

export async function finishReindex(deps: ControlDeps): Promise<VersionedState> {
  const after = await deps.record.change((s) => {
    if (s.phase === 'steady') return s;
    const f = finish(s);
    return s.previous ? retire({ ...f, retired: [...retiredOf(s), s.previous.collection] }, s.previous.chunking) : f;
  });
  await ensureLiveAlias(deps, after.state);
  return dropRetired(deps);
}

function retiredOf(s: IndexState): string[] {
  return s.retired ?? [];
}

/** Adds `chunking` to the chunkings to remove, unless a target of `s` still uses it. */
function retire(s: IndexState, chunking: number): IndexState {
  if (liveChunkings(s).includes(chunking) || (s.retiredChunkings ?? []).includes(chunking)) return s;
  return { ...s, retiredChunkings: [...(s.retiredChunkings ?? []), chunking] };
}

/** Documents per batch when a retired chunking's chunks are removed. */
const CHUNKING_PAGE = 500;

/** Removes a retired chunking's PostgreSQL rows and graph nodes, a page of documents at a time
 * (each page an index range; a re-run after a crash starts over and finds the done pages empty). */
async function dropChunkingEverywhere(deps: ControlDeps, chunking: number): Promise<void> {
  for (let after: string | null = null; ; ) {
    const page = await deps.stores.postgres.listDocuments(after, CHUNKING_PAGE);
    const ids = page.map((d) => d.id);
    await deps.stores.postgres.dropChunking(ids, chunking);
    await deps.stores.neo4j.dropChunking(ids, chunking);
    if (page.length < CHUNKING_PAGE) return;
    after = ids[ids.length - 1] ?? null;
  }
}

/**
 * Collections of this deployment that no target names and that are not listed as retired: a saga
 * that read the record before a --finish and wrote after the drop created its collection again (a
 * Qdrant write to a missing collection creates it). Only names up to the record's generation
 * (`<base>` is the first): a collection a concurrent start names next is never one.
 */
async function strayCollections(deps: ControlDeps, s: IndexState, retired: readonly string[]): Promise<string[]> {
  const named = new Set([...writeTargets(s).map((t) => t.collection), ...retired]);
  const generationOf = (name: string): number | undefined => {
    if (name === deps.base) return 1;
    const m = /^(.*)_v(\d+)$/.exec(name);
    return m?.[1] === deps.base ? Number(m[2]) : undefined;
  };
  return (await deps.vectors.listCollections())
    .map((c) => c.name)
    .filter((n) => !named.has(n) && (generationOf(n) ?? Infinity) <= s.generation);
}

/**
 * Once steady, every chunking the record knows but no target uses: a saga that read the record
 * before a --finish and wrote after it puts the retired chunking's rows and nodes back (its
 * postgres_pending and neo4j_write write every chunking its record named). A re-run of --finish
 * removes them (a pass over every document; none when only one chunking was ever used).
 */
function strayChunkings(s: IndexState): number[] {
  if (s.phase !== 'steady') return [];
  return [CHUNKING_VERSION, ...Object.keys(s.chunkings ?? {}).map(Number)].filter((k) => !liveChunkings(s).includes(k));
}

/** Drops the retired collections, once no process can still act on a record that named them. */
async function dropRetired(deps: ControlDeps): Promise<VersionedState> {
  const cur = await deps.record.read();
  if (!cur) throw new ReindexError('REINDEX_PHASE', 'no active index record');
  const retired = retiredOf(cur.state).filter((c) => c !== cur.state.active.collection);
  const chunkings = [...new Set([...(cur.state.retiredChunkings ?? []), ...strayChunkings(cur.state)])].filter(
    (k) => !liveChunkings(cur.state).includes(k),
  );
  const stray = await strayCollections(deps, cur.state, retired);
  if (retired.length === 0 && chunkings.length === 0 && stray.length === 0) return cur;
  await (deps.sleep ?? sleepMs)(RECORD_CACHE_MS * 2);
  for (const c of [...retired, ...stray]) await deps.vectors.dropCollection(c);
  for (const k of chunkings) {
    const now = await deps.record.read();
    if (now && liveChunkings(now.state).includes(k)) continue; // a migration named it meanwhile
    await dropChunkingEverywhere(deps, k);
  }
  return deps.record.change((s) => {
    const left = retiredOf(s).filter((c) => !retired.includes(c));
    const leftChunkings = (s.retiredChunkings ?? []).filter((k) => !chunkings.includes(k));
    // Only strays dropped (a re-run): the record lists nothing less, so it is not written.
    if (left.length === retiredOf(s).length && leftChunkings.length === (s.retiredChunkings ?? []).length) return s;
    const { retired: _dropped, retiredChunkings: _removed, ...rest } = s;
    return {
      ...rest,
      ...(left.length > 0 ? { retired: left } : {}),
      ...(leftChunkings.length > 0 ? { retiredChunkings: leftChunkings } : {}),
    };
  });
}
