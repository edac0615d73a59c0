// Deterministic vector point ids: the same chunk of the same version always maps to the same id,
// so a repeated upsert overwrites instead of duplicating (DESIGN "Data contract": Qdrant).
import { v5 as uuidv5 } from 'uuid';

/** Fixed namespace for Apex Memory chunk ids; changing it would orphan every stored point. */
export const POINT_ID_NAMESPACE = '6f1c6a3e-7c1b-5b8e-9a51-3d4f0c2b9e10';

export function chunkKey(docId: string, contentSha256: string, idx: number): string {
  return `${docId}:${contentSha256}:${idx}`;
}

/** A graph chunk node's id: chunking 1 (every version written before re-chunking existed) keeps
 * the plain key; another chunking's nodes of the same version get their own ids beside them. */
export function graphChunkKey(docId: string, contentSha256: string, idx: number, chunking: number): string {
  return chunking === 1 ? chunkKey(docId, contentSha256, idx) : `${chunkKey(docId, contentSha256, idx)}@c${chunking}`;
}

export function pointId(docId: string, contentSha256: string, idx: number): string {
  return uuidv5(chunkKey(docId, contentSha256, idx), POINT_ID_NAMESPACE);
}
