// Redis key layout (version 2). Every key of one document carries the same Redis Cluster hash tag,
// `{<id length>:<id>}`, so the fenced scripts (entry + fence) touch a single slot and run on a
// cluster; a standalone server ignores the braces. The length makes the tag never empty (Redis
// hashes the whole key when `{}` is empty, e.g. for an id starting with '}') and makes the key
// unambiguous whatever the id or the saga id contains. Lengths count UTF-16 code units (JS).
//
//   apex:{<len>:<id>}:doc              the cache entry (JSON)
//   apex:{<len>:<id>}:fence:<sagaId>   the saga's fence (highest token seen), with a TTL
//   apex:keys-version                  "2" once the layout-1 keys are migrated (migrate-keys.ts)
//
// Layout 1 (up to this release): `apex:doc:<id>` and `apex:fence:<len>:<id>:<sagaId>`.

/** SCAN MATCH pattern of the entries. Braces are not glob characters, '*' spans the tag. */
export const DOC_KEY_PATTERN = 'apex:{*}:doc';
const DOC_KEY_SUFFIX = '}:doc';

export const KEYS_VERSION_KEY = 'apex:keys-version';
export const KEYS_VERSION = '2';

export const LEGACY_DOC_PREFIX = 'apex:doc:';
export const LEGACY_FENCE_PREFIX = 'apex:fence:';

function tag(docId: string): string {
  return `apex:{${docId.length}:${docId}}`;
}

export function docKey(docId: string): string {
  return `${tag(docId)}:doc`;
}

export function fenceKey(docId: string, sagaId: string): string {
  return `${tag(docId)}:fence:${sagaId}`;
}

/** `apex:{<len>:<id>` then `rest`: the id, or undefined when the key is not of that shape. */
function idOfTagged(key: string, rest: (afterId: string) => boolean): string | undefined {
  const m = /^apex:\{(\d{1,6}):/.exec(key);
  if (!m?.[1]) return undefined;
  const start = m[0].length;
  const id = key.slice(start, start + Number(m[1]));
  if (id.length !== Number(m[1]) || !rest(key.slice(start + id.length))) return undefined;
  return id;
}

/** The document id of an entry key (layout 2), or undefined for any other key. */
export function docIdOfKey(key: string): string | undefined {
  return idOfTagged(key, (after) => after === DOC_KEY_SUFFIX);
}

/** The layout-2 key a layout-1 key moves to, or undefined when `key` is not a layout-1 key. */
export function migratedKey(legacyKey: string): string | undefined {
  if (legacyKey.startsWith(LEGACY_DOC_PREFIX)) return docKey(legacyKey.slice(LEGACY_DOC_PREFIX.length));
  if (!legacyKey.startsWith(LEGACY_FENCE_PREFIX)) return undefined;
  const rest = legacyKey.slice(LEGACY_FENCE_PREFIX.length);
  const m = /^(\d{1,6}):/.exec(rest);
  if (!m?.[1]) return undefined;
  const start = m[0].length;
  const docId = rest.slice(start, start + Number(m[1]));
  const after = rest.slice(start + docId.length);
  if (docId.length !== Number(m[1]) || !after.startsWith(':')) return undefined;
  return fenceKey(docId, after.slice(1));
}
