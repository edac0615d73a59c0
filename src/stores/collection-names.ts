// Collection and alias names (issue 25, docs/stores.md "Collections and aliases"), checked before
// any request by every VectorCollections implementation, with Qdrant's rules: 1 to 255 characters,
// none of < > : " / \ | ? * NUL or U+001F (Qdrant's INVALID_NAME_CHARS: names become directories).
// The SQLite stand-in applies the same rules so a name that works embedded works on a server.
import { StoreError } from './errors.js';

export const MAX_COLLECTION_NAME = 255;
const FORBIDDEN = ['<', '>', ':', '"', '/', '\\', '|', '?', '*', '\u0000', '\u001f'] as const;

/** A refused name: `field` is the argument at fault ("name", "alias", "collection"). */
export class CollectionNameError extends StoreError {
  readonly field: string;
  constructor(what: string, field: string, detail: string) {
    super('qdrant', 'STORE_PERMANENT', `${what}: ${field} ${detail}`, { retryable: false });
    this.field = field;
  }
}

/** Throws CollectionNameError naming `field` and the limit it breaks; returns the name otherwise. */
export function checkCollectionName(what: string, field: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new CollectionNameError(what, field, `must be a non-empty string (1 to ${MAX_COLLECTION_NAME} characters)`);
  }
  // Qdrant counts characters (the validator crate's length), not bytes.
  const length = [...name].length;
  if (length > MAX_COLLECTION_NAME) {
    throw new CollectionNameError(what, field, `is ${length} characters long, the limit is ${MAX_COLLECTION_NAME}`);
  }
  const bad = FORBIDDEN.find((c) => name.includes(c));
  if (bad !== undefined) {
    throw new CollectionNameError(
      what,
      field,
      `${JSON.stringify(name)} contains ${JSON.stringify(bad)}, which a collection or alias name cannot contain (forbidden: < > : " / \\ | ? * NUL U+001F)`,
    );
  }
  return name;
}

/** A positive integer dimension, else a typed error naming the field. */
export function checkDimension(what: string, dimension: unknown): number {
  if (typeof dimension !== 'number' || !Number.isInteger(dimension) || dimension < 1 || dimension > 65536) {
    throw new StoreError('qdrant', 'STORE_PERMANENT', `${what}: dimension must be an integer from 1 to 65536, got ${String(dimension)}`, {
      retryable: false,
    });
  }
  return dimension;
}
