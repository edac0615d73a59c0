// Option parsers shared by commands. Commander reports an InvalidArgumentError as a usage error
// (exit 2) naming the option.
import { InvalidArgumentError } from 'commander';

export function positiveInt(max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`expected an integer from 1 to ${max}, got "${value.slice(0, 40)}"`);
    }
    return n;
  };
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    const found = allowed.find((a) => a === value);
    if (found === undefined) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}, got "${value.slice(0, 40)}"`);
    return found;
  };
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration such as `90s`, `15m`, `12h` or `7d`, in milliseconds. */
export function duration(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration like 30m, 12h or 7d, got "${value.slice(0, 40)}"`);
  return Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1_000);
}
