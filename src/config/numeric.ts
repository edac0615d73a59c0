// Numeric settings (environment variables and command-line flags) are checked once, at start:
// `APEX_STORE_TIMEOUT_MS=abc` used to become NaN and surface later as odd timeouts. A bad value
// fails with a typed error that names the setting and the accepted range. The CLI prints it as a
// configuration error (exit 2); commander flags use the same check through src/cli/args.ts.

import { markError } from '../lib/errors.js';

export type ConfigErrorCode = 'CONFIG_INVALID';

export class ConfigError extends Error {
  readonly code: ConfigErrorCode = 'CONFIG_INVALID';
  /** The environment variable or flag, e.g. `APEX_STORE_TIMEOUT_MS`. */
  readonly setting: string;
  constructor(setting: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.setting = setting;
    markError(this);
  }
}

export interface IntRange {
  min: number;
  max: number;
  /** Shown after the range, e.g. "milliseconds". */
  unit?: string;
}

/** "an integer from 100 to 3600000 (milliseconds)" */
export function describeRange(range: IntRange): string {
  return `an integer from ${range.min} to ${range.max}${range.unit ? ` (${range.unit})` : ''}`;
}

/**
 * The integer that `raw` spells in plain decimal digits (an optional leading minus, surrounding
 * spaces allowed), or undefined: no `1e3`, `0x10`, `1_000`, `12.0`, `12ms` or empty string, which
 * Number() would accept or turn into 0.
 */
export function parseDecimalInt(raw: string): number | undefined {
  const text = raw.trim();
  if (!/^-?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Why `raw` is not acceptable for `range`, or undefined when it is. */
export function rangeProblem(raw: string, range: IntRange): string | undefined {
  const n = parseDecimalInt(raw);
  if (n !== undefined && n >= range.min && n <= range.max) return undefined;
  return `expected ${describeRange(range)}, got ${JSON.stringify(raw.slice(0, 40))}`;
}

/** Parses `raw` for the setting `name` or throws ConfigError naming it and the range. */
export function intSetting(name: string, raw: string, range: IntRange): number {
  const problem = rangeProblem(raw, range);
  if (problem !== undefined) throw new ConfigError(name, `${name} must be ${describeRange(range)}, got ${JSON.stringify(raw.slice(0, 40))}`);
  return Number(raw.trim());
}

/** An optional integer environment variable: unset or empty gives undefined. */
export function intFromEnv(env: Record<string, string | undefined>, name: string, range: IntRange): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return intSetting(name, raw, range);
}
