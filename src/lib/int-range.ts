// Integer settings checked against a range: the pure part of src/config/numeric.ts, here on the
// ground floor so that layers which declare a range (the outage budget) or check a flag (the CLI)
// need not import config.

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
