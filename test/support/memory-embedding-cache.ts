// The embedding cache's contract (EmbeddingCacheStore in src/stores/types.ts) in memory, for the
// simulation's model relational store and the unit tests of the cache logic: entries keyed by
// (model, dimension, text hash), kept alive by the document versions that use them; an entry goes
// with its last use. Same semantics as src/stores/postgres/embedding-cache.ts, without a database.
import type { EmbeddingCacheStore, EmbeddingModel, EmbeddingUse } from '../../src/stores/types.js';

const key = (...parts: Array<string | number>): string => parts.join('\u0000');

export class MemoryEmbeddingCache implements EmbeddingCacheStore {
  /** (text hash, model, dimension) -> vector */
  readonly entries = new Map<string, { textSha256: string; vector: number[] }>();
  /** (doc, version, text hash) */
  readonly uses = new Map<string, { docId: string; contentSha256: string; textSha256: string }>();
  calls = { lookup: 0, put: 0, forget: 0 };

  async lookupEmbeddings(use: EmbeddingUse, model: EmbeddingModel, hashes: readonly string[]): Promise<Map<string, number[]>> {
    this.calls.lookup++;
    const out = new Map<string, number[]>();
    for (const h of hashes) {
      this.uses.set(key(use.docId, use.contentSha256, h), { ...use, textSha256: h });
      const e = this.entries.get(key(h, model.model, model.dimension));
      if (e) out.set(h, [...e.vector]);
    }
    return out;
  }

  async putEmbeddings(
    use: EmbeddingUse,
    model: EmbeddingModel,
    entries: ReadonlyArray<{ textSha256: string; embedding: readonly number[] }>,
  ): Promise<void> {
    this.calls.put++;
    for (const e of entries) {
      this.uses.set(key(use.docId, use.contentSha256, e.textSha256), { ...use, textSha256: e.textSha256 });
      const k = key(e.textSha256, model.model, model.dimension);
      if (!this.entries.has(k)) this.entries.set(k, { textSha256: e.textSha256, vector: [...e.embedding] });
    }
  }

  async forgetEmbeddings(docId: string, contentSha256: string | null): Promise<number> {
    this.calls.forget++;
    const hashes = new Set<string>();
    for (const [k, u] of this.uses) {
      if (u.docId === docId && (contentSha256 === null || u.contentSha256 === contentSha256)) {
        hashes.add(u.textSha256);
        this.uses.delete(k);
      }
    }
    const used = new Set([...this.uses.values()].map((u) => u.textSha256));
    let gone = 0;
    for (const [k, e] of this.entries) {
      if (hashes.has(e.textSha256) && !used.has(e.textSha256)) {
        this.entries.delete(k);
        gone++;
      }
    }
    return gone;
  }

  usesOf(docId: string): number {
    return [...this.uses.values()].filter((u) => u.docId === docId).length;
  }
}
