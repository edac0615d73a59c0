// The vector part of every write (docs/reindex.md "Dual writes"): the ingest, update and delete
// sagas write every vector target the active index record names now, each with its own embedder
// and chunking: one target normally, two while a reindex runs or is switched but not finished.
// The record decides, not the collection the process opened at start: a process that outlives a
// `--switch` and a `--finish` writes the new collection and stops writing the dropped one.
//
// An action that fails on a target the record no longer names (finished or rolled back meanwhile:
// its collection may be gone) is not an error: there is nothing left to keep consistent there.
import type { DocumentVersion, EmbeddingCacheStore, VectorStore, WriteContext } from '../../stores/types.js';
import type { ValidDocument } from '../schema.js';
import type { IngestLimits } from '../limits.js';
import { versionOf } from '../sagas/version.js';
import { CHUNKING_VERSION, writeTargets } from './state.js';
import { limitsOf } from './chunkings.js';
import type { TargetBinding, VectorTargets } from './targets.js';
import type { Embedder } from '../embedder.js';
import { settleAll } from '../../lib/settle-all.js';

/** The process's own store and embedder: the one target of a deployment without an index record. */
export function ownBinding(store: VectorStore, embedder: Embedder): TargetBinding {
  // Only its chunking (the first) and its store and embedder are used: no record names it.
  const target = { embedder: 'own', model: '', dimension: embedder.dimension, chunking: CHUNKING_VERSION, collection: '' };
  return { target, store, embedder };
}

/**
 * Runs `action` on every target writes must reach now, side by side (each is its own collection
 * and embedder); tolerates failures on targets the record dropped meanwhile. Returns the
 * collections acted on, the active one first.
 */
export async function forEachTarget(
  targets: VectorTargets | undefined,
  own: TargetBinding,
  action: (b: TargetBinding) => Promise<void>,
): Promise<string[]> {
  if (!targets) {
    await action(own);
    return [];
  }
  const outcomes = await settleAll(
    (await targets.writers()).map(async (b) => {
      try {
        await action(b);
        return b.target.collection;
      } catch (err) {
        const fresh = await targets.record.read();
        const named = fresh ? writeTargets(fresh.state).some((t) => t.collection === b.target.collection) : false;
        if (named) throw err;
        return undefined;
      }
    }),
  );
  return outcomes.filter((c): c is string => c !== undefined);
}

/**
 * Writes `doc`'s version `sha` into every target, each embedded with its target's embedder and cut
 * with its chunking. `points`: the chunks written to the first target (the active one).
 */
export async function writeEverywhere(
  targets: VectorTargets | undefined,
  own: TargetBinding,
  doc: ValidDocument,
  sha: string,
  w: WriteContext,
  opts: {
    limits?: Partial<IngestLimits>;
    cacheOf?: (embedder: Embedder) => EmbeddingCacheStore | undefined;
    signal?: AbortSignal;
  },
): Promise<{ points: number; collections: string[] }> {
  const state = targets ? (await targets.record.current()).state : undefined;
  const points = new Map<string, number>();
  const collections = await forEachTarget(targets, own, async (b) => {
    const embeddingCache = opts.cacheOf?.(b.embedder);
    const v: DocumentVersion = await versionOf(doc, sha, {
      ...(embeddingCache ? { embeddingCache } : {}),
      limits: limitsOf(state, b.target.chunking, opts.limits),
      embedder: b.embedder,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    await b.store.writeVersion(v, w);
    points.set(b.target.collection, v.chunks.length);
  });
  return { points: points.get(collections[0] ?? '') ?? 0, collections };
}
