// A Qdrant that comes back without its collection (a new or wiped server, a replaced volume; issue
// 22) answers 404 "Collection `apex_chunks` doesn't exist!". Reads then see an empty store (verify
// reports the collection missing and every committed document's version absent), removals have
// nothing to remove, and a write creates the collection again (connect) before it writes. Any
// other 404 is a request's fault and stays permanent.
import { isStoreError } from '../errors.js';

export function isMissingCollection(err: unknown): boolean {
  return (
    isStoreError(err) &&
    err.store === 'qdrant' &&
    err.message.includes('HTTP 404') &&
    /[Cc]ollection .* (doesn't|does not) exist/.test(err.message)
  );
}
