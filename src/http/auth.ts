// Bearer-token authentication. The token is compared in constant time (both sides hashed to the
// same length first, so neither the content nor the length leaks through timing). A server bound
// to anything but loopback must have a token: `assertSafeBind` refuses to start otherwise.
import { markError } from '../lib/errors.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { problemResponse } from './problem.js';

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export class BindError extends Error {
  readonly code = 'HTTP_UNSAFE_BIND';
  constructor(message: string) {
    super(message);
    this.name = 'BindError';
    markError(this);
  }
}

/** Throws unless the host is loopback or a token is set. */
export function assertSafeBind(host: string, token: string | undefined): void {
  if (isLoopbackHost(host)) return;
  if (token === undefined || token.length < 16) {
    throw new BindError(
      `refusing to listen on ${host} (not loopback) without a bearer token of at least 16 characters (set the APEX_API_TOKEN environment variable; there is no flag, so the token stays out of the process list)`,
    );
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

export function tokenMatches(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Requires `Authorization: Bearer <token>` on every path except the liveness probe. With no
 * token configured (loopback only), everything is open.
 */
export function bearerAuth(token: string | undefined, open: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    if (token === undefined || open.has(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m?.[1] || !tokenMatches(m[1], token)) {
      c.header('WWW-Authenticate', 'Bearer realm="apex-memory"');
      return problemResponse(
        c,
        401,
        'HTTP_UNAUTHORIZED',
        m ? 'the bearer token is wrong' : 'a bearer token is required (Authorization: Bearer <token>)',
      );
    }
    return next();
  };
}
