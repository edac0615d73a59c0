// Command-line glue for observability flags, shared by the commands that take them
// (worker: --metrics-port, --verify-every; ingest and verify: --pushgateway).
import { InvalidArgumentError } from 'commander';

/** A TCP port, 0 (any free port, printed at start) to 65535. */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65_535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${value.slice(0, 40)}"`);
  return n;
}

/** An http(s) URL (a Pushgateway); the value is never echoed whole, it may carry credentials. */
export function httpUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:9091');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError(`expected an http(s) URL, got a ${u.protocol} URL`);
  return value;
}
