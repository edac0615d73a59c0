// Option parsers shared by commands. Commander reports an InvalidArgumentError as a usage error
// (exit 2) naming the option. Integers go through the same check as numeric environment
// variables (src/config/numeric.ts): plain decimal digits within a stated range, no NaN.
import { InvalidArgumentError } from 'commander';
import { rangeProblem } from '../config/numeric.js';

/** An integer from `min` to `max`; the error states the range. */
export function intInRange(min: number, max: number) {
  return (value: string): number => {
    const problem = rangeProblem(value, { min, max });
    if (problem !== undefined) throw new InvalidArgumentError(problem);
    return Number(value.trim());
  };
}

export function positiveInt(max: number) {
  return intInRange(1, max);
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    const found = allowed.find((a) => a === value);
    if (found === undefined) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value.slice(0, 40)}"`);
    return found;
  };
}

const UNIT_MS_DAY = 86_400_000;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: UNIT_MS_DAY };

/** 100 years: any longer age is a typo, and the arithmetic stays exact (no Infinity, no invalid Date). */
export const MAX_DURATION_MS = 36_500 * UNIT_MS_DAY;

/** A duration such as `90s`, `15m`, `12h` or `7d`, in milliseconds, at most 36500d. */
export function duration(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  const ms = m ? Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1_000) : NaN;
  if (!Number.isSafeInteger(ms) || ms > MAX_DURATION_MS) {
    throw new InvalidArgumentError(`expected a duration like 30m, 12h or 7d, from 0s to 36500d, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return ms;
}
