// The one place that removes credentials from text meant for people: CLI errors, worker warnings,
// health details. Driver messages can echo what they were given (a connection string, a libpq
// keyword list, a request's headers), so every message that leaves the process through the CLI
// passes through redactCredentials. redactUrl formats a configured URL for display.

const MASK = '***';

/**
 * Keys whose value is a secret wherever they appear as `key=value`, `key: value` or `"key": "value"`.
 * A bare `token` is not one ("fencing token: 7" is no secret); `?token=` in a URL is, below.
 */
const SECRET_KEYS = 'password|passwd|pwd|secret|client[-_]?secret|api[-_]?key|x-api-key|access[-_]?token|refresh[-_]?token|auth[-_]?token';

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  // scheme://user:password@host and scheme://:password@host (redis) -> scheme://***@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/?#@\s]+@/gi, `$1${MASK}@`],
  // Authorization: Bearer abc / Basic abc / a bare token; also Proxy-Authorization
  [/(\b(?:proxy-)?authorization\b["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token|digest)\s+)?[^\s"',;]+/gi, `$1${MASK}`],
  // a Bearer credential on its own ("Bearer eyJ0..."): 8+ characters with a digit, so that words
  // ("Bearer authentication") stay
  [/(\bbearer\s+)(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${MASK}`],
  // "password": "x" (JSON) -> "password": "***"
  [new RegExp(`("[\\w-]*(?:${SECRET_KEYS})"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1"${MASK}"`],
  // password=x, api-key: x, ?apikey=x&..., password='a b' -> masked up to whitespace, a quote,
  // `,`, `;` or `&`. Brackets are masked too: a password may hold `)` and must not half leak.
  // (a letter or digit may not touch the key, `_` may: NEO4J_PASSWORD=x, QDRANT_API_KEY=x)
  [new RegExp(`((?<![A-Za-z0-9])(?:${SECRET_KEYS})(?![A-Za-z0-9])\\s*[=:]\\s*)(?:"[^"]*"|'[^']*'|[^\\s"',;&]+)`, 'gi'), `$1${MASK}`],
  // ?token=x / &token=x in a URL
  [/([?&]token=)[^\s&#"']+/gi, `$1${MASK}`],
];

/**
 * Replaces credentials in free text with `***`: user and password in URLs, `password=...`-style
 * pairs (libpq keywords, query strings, JSON, headers), and Authorization / api-key values.
 * Idempotent, and text without credentials comes back unchanged.
 */
export function redactCredentials(text: string): string {
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/** Connection text without user or password (and without query parameters, which may carry keys). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    // Multi-host URLs (redis+cluster://a:1,b:2) are no WHATWG URLs: drop the credentials (up to the last '@') by hand.
    const m = /^([a-z][a-z0-9+.-]*:\/\/)(?:.*@)?([^/?#@]*)([^?#]*)/i.exec(url);
    return m?.[1] && m[2] ? `${m[1]}${m[2]}${m[3] === '/' ? '' : (m[3] ?? '')}` : '(unparseable URL)';
  }
}
