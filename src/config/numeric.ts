// Numeric settings (environment variables and command-line flags) are checked once, at start:
// `APEX_STORE_TIMEOUT_MS=abc` used to become NaN and surface later as odd timeouts. A bad value
// fails with a typed error that names the setting and the accepted range. The CLI prints it as a
// configuration error (exit 2); commander flags use the same check through src/cli/args.ts.

import { markError } from '../lib/errors.js';
import { describeRange, rangeProblem, type IntRange } from '../lib/int-range.js';

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

/** Parses `raw` for the setting `name` or throws ConfigError naming it and the range. */
export function intSetting(name: string, raw: string, range: IntRange): number {
  const problem = rangeProblem(raw, range);
  if (problem !== undefined)
    throw new ConfigError(name, `${name} must be ${describeRange(range)}, got ${JSON.stringify(raw.slice(0, 40))}`);
  return Number(raw.trim());
}

/** An optional integer environment variable: unset or empty gives undefined. */
export function intFromEnv(env: Record<string, string | undefined>, name: string, range: IntRange): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  return intSetting(name, raw, range);
}
