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
//
// Namespaces (APEX_NAMESPACE, src/config/namespace.ts): `apex:<ns>:` replaces `apex:` in every key
// above (`apex:<ns>:{<len>:<id>}:doc`, `apex:<ns>:keys-version`). The hash tag stays per document,
// so a cluster still runs each document's scripts on one slot. The default pattern `apex:{*}:doc`
// cannot match a namespaced key (a letter follows `apex:`, not `{`), and a namespace (letters,
// digits, '_') cannot contain ':' or '{', so no namespace's pattern matches another's keys.

/** SCAN MATCH pattern of the entries. Braces are not glob characters, '*' spans the tag. */
export const DOC_KEY_PATTERN = 'apex:{*}:doc';
const DOC_KEY_SUFFIX = '}:doc';

export const KEYS_VERSION_KEY = 'apex:keys-version';
export const KEYS_VERSION = '2';

export const LEGACY_DOC_PREFIX = 'apex:doc:';
export const LEGACY_FENCE_PREFIX = 'apex:fence:';

/** One deployment's key names: `redisKeys()` is the layout without a namespace. */
export interface RedisKeys {
  /** The namespace, or undefined for the keys of every release before namespaces. */
  readonly namespace: string | undefined;
  /** SCAN MATCH pattern of this deployment's entries. */
  readonly docPattern: string;
  readonly versionKey: string;
  docKey(docId: string): string;
  fenceKey(docId: string, sagaId: string): string;
  /** The document id of one of this deployment's entry keys, or undefined for any other key. */
  docIdOfKey(key: string): string | undefined;
}

const NAMESPACE = /^[a-z][a-z0-9_]{0,30}$/;

export function redisKeys(namespace?: string): RedisKeys {
  if (namespace !== undefined && !NAMESPACE.test(namespace)) throw new Error(`namespace must match ${NAMESPACE.source}`);
  const prefix = namespace === undefined ? 'apex:' : `apex:${namespace}:`;
  const tag = (docId: string): string => `${prefix}{${docId.length}:${docId}}`;
  return {
    namespace,
    docPattern: `${prefix}{*}:doc`,
    versionKey: `${prefix}keys-version`,
    docKey: (docId) => `${tag(docId)}:doc`,
    fenceKey: (docId, sagaId) => `${tag(docId)}:fence:${sagaId}`,
    docIdOfKey: (key) => idOfTagged(prefix, key, (after) => after === DOC_KEY_SUFFIX),
  };
}

const DEFAULT_KEYS = redisKeys();

export function docKey(docId: string): string {
  return DEFAULT_KEYS.docKey(docId);
}

export function fenceKey(docId: string, sagaId: string): string {
  return DEFAULT_KEYS.fenceKey(docId, sagaId);
}

/** `<prefix>{<len>:<id>` then `rest`: the id, or undefined when the key is not of that shape. */
function idOfTagged(prefix: string, key: string, rest: (afterId: string) => boolean): string | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const m = /^\{(\d{1,6}):/.exec(key.slice(prefix.length));
  if (!m?.[1]) return undefined;
  const start = prefix.length + m[0].length;
  const id = key.slice(start, start + Number(m[1]));
  if (id.length !== Number(m[1]) || !rest(key.slice(start + id.length))) return undefined;
  return id;
}

/** The document id of an entry key (layout 2, no namespace), or undefined for any other key. */
export function docIdOfKey(key: string): string | undefined {
  return DEFAULT_KEYS.docIdOfKey(key);
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
