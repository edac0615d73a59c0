// Dual writes (docs/reindex.md): while a reindex runs, or is switched but not finished, the
// ingest, update and delete sagas write every vector target the active index record names, each
// with its own embedder. These helpers run one action per extra target. An action that fails on a
// target the record no longer names (finished or rolled back meanwhile: its collection may be
// gone) is not an error: there is nothing left to keep consistent there.
import type { DocumentVersion, EmbeddingCacheStore, WriteContext } from '../../stores/types.js';
import type { ValidDocument } from '../schema.js';
import type { IngestLimits } from '../limits.js';
import { versionOf } from '../sagas/version.js';
import { writeTargets } from './state.js';
import { limitsOf } from './chunkings.js';
import type { TargetBinding, VectorTargets } from './targets.js';
import type { Embedder } from '../embedder.js';
import { settleAll } from '../../lib/settle-all.js';

/** Runs `action` on every extra target; tolerates failures on targets the record dropped. */
export async function forEachOther(targets: VectorTargets | undefined, action: (b: TargetBinding) => Promise<void>): Promise<string[]> {
  if (!targets) return [];
  // Side by side: each target is its own collection (and embedder).
  const outcomes = await settleAll(
    (await targets.others()).map(async (b) => {
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

/** Writes `doc`'s version `sha` into every extra target, embedded with that target's embedder. */
export function writeOthers(
  targets: VectorTargets | undefined,
  doc: ValidDocument,
  sha: string,
  w: WriteContext,
  opts: { limits?: Partial<IngestLimits>; cacheOf?: (embedder: Embedder) => EmbeddingCacheStore | undefined },
): Promise<string[]> {
  return forEachOther(targets, async (b) => {
    // Each target's own chunking, with the parameters the record gives for it.
    const state = targets ? (await targets.record.current()).state : undefined;
    const embeddingCache = opts.cacheOf?.(b.embedder);
    const v: DocumentVersion = await versionOf(doc, sha, {
      ...(embeddingCache ? { embeddingCache } : {}),
      limits: limitsOf(state, b.target.chunking, opts.limits),
      embedder: b.embedder,
      ...(w.signal ? { signal: w.signal } : {}),
    });
    await b.store.writeVersion(v, w);
  });
}
