// DNS-rebinding and cross-site-write protection. A web page the operator visits can rebind its own
// name to 127.0.0.1 and then talk to a loopback server through the operator's browser; the only
// trace of that is the Host header (the attacker's name). So: a loopback bind answers only
// loopback Host names (plus the names in APEX_HTTP_ALLOWED_HOSTS); any other Host gets 421.
// A bind off loopback needs a bearer token (auth.ts), which a rebinding page does not have; there
// the Host is checked only when APEX_HTTP_ALLOWED_HOSTS names hosts.
// State-changing requests (POST/PUT/PATCH/DELETE) whose Origin is neither this server's own origin
// nor one allowed by --cors-origin get 403: the dashboard's own requests are same-origin.
import type { MiddlewareHandler } from 'hono';
import { isLoopbackHost } from './auth.js';
import { problemResponse } from './problem.js';

export const ALLOWED_HOSTS_ENV = 'APEX_HTTP_ALLOWED_HOSTS';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface HostGuardOptions {
  /** The address the server binds (undefined: in-process use, treated as loopback). */
  bindHost: string | undefined;
  /** Extra Host names accepted (lower case, without port). */
  allowedHosts: readonly string[];
  /** Origins allowed by CORS; they may also send state-changing requests. */
  corsOrigins: readonly string[];
}

/** `host[:port]` → lower-case host name without brackets or port; undefined when malformed. */
export function hostName(hostHeader: string): string | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[^\s:[\]/@]+)(?::(\d{1,5}))?$/i.exec(hostHeader.trim());
  if (!m?.[1]) return undefined;
  return m[1].replace(/^\[|\]$/g, '').toLowerCase();
}

/** Parses APEX_HTTP_ALLOWED_HOSTS: a comma list of host names (no scheme, no port). */
export function parseAllowedHosts(raw: string | undefined): string[] {
  if (raw === undefined || raw.trim() === '') return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const h = hostName(s);
      if (h === undefined || (s.includes(':') && !s.startsWith('[')))
        throw new Error(`${ALLOWED_HOSTS_ENV}: "${s.slice(0, 60)}" is not a host name (comma list of names without scheme or port)`);
      return h;
    });
}

export function hostAllowed(hostHeader: string, opts: HostGuardOptions): boolean {
  const name = hostName(hostHeader);
  if (name === undefined) return false;
  if (opts.allowedHosts.includes(name)) return true;
  const loopbackBind = opts.bindHost === undefined || isLoopbackHost(opts.bindHost);
  if (loopbackBind) return isLoopbackHost(name);
  // Off loopback every request carries the bearer token; the Host is restricted only on request.
  return opts.allowedHosts.length === 0;
}

export function hostGuard(opts: HostGuardOptions): MiddlewareHandler {
  const cors = new Set(opts.corsOrigins.map((o) => o.toLowerCase()));
  return async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    if (!hostAllowed(host, opts)) {
      return problemResponse(
        c,
        421,
        'HTTP_HOST_NOT_ALLOWED',
        `this server does not answer for Host "${host.slice(0, 100)}"; add the name to ${ALLOWED_HOSTS_ENV} if it is yours`,
        { field: 'Host' },
      );
    }
    if (UNSAFE.has(c.req.method)) {
      const origin = c.req.header('origin');
      const site = c.req.header('sec-fetch-site');
      const foreign = origin !== undefined ? !sameOrigin(origin, host) && !cors.has(origin.toLowerCase()) : site === 'cross-site';
      if (foreign) {
        return problemResponse(
          c,
          403,
          'HTTP_FOREIGN_ORIGIN',
          `a ${c.req.method} from origin "${(origin ?? 'cross-site').slice(0, 100)}" is refused (not this server's origin, not allowed by --cors-origin)`,
          { field: 'Origin' },
        );
      }
    }
    return next();
  };
}

function sameOrigin(origin: string, host: string): boolean {
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host.toLowerCase() === host.toLowerCase();
  } catch {
    return false; // "null" (sandboxed frames, file://) and garbage are foreign
  }
}
