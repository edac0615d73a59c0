// Plain-text rendering shared by every command: aligned tables, key/value blocks, the profile
// lines, and JSON. Commands print through these so that --json output stays pure JSON on stdout
// and human output looks the same everywhere.
import type { ProfileDescription } from '../wiring.js';
import { escapeControls } from './args.js';

export type Align = 'left' | 'right';

export interface Column {
  header: string;
  align?: Align;
  /** Longer cell text is cut with an ellipsis. */
  maxWidth?: number;
}

export function renderTable(columns: Column[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = rows.map((row) => columns.map((c, i) => clip(String(row[i] ?? ''), c.maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => ((columns[i]?.align ?? 'left') === 'right' ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(columns.map((c) => c.header)), rule, ...cells.map(line)].join('\n');
}

/** "key   value" lines with the keys padded to one width. */
export function renderPairs(pairs: ReadonlyArray<readonly [string, string | number]>): string {
  const width = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${String(v)}`).join('\n');
}

/** Which profile, stores, saga log and durability ran: printed first by every command. */
export function profileLines(d: ProfileDescription): string {
  const stores = Object.entries(d.stores)
    .map(([name, where]) => `${name}=${where}`)
    .join('  ');
  return [
    `profile: ${d.profile}  embedder: ${d.embedder}${d.namespace !== null ? `  namespace: ${d.namespace}` : ''}`,
    `stores: ${stores}`,
    `saga log: ${d.sagaLog}  durability: ${d.durability}`,
  ].join('\n');
}

export function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1);
}

export function formatTime(epochMs: number | null): string {
  return epochMs === null ? '-' : new Date(epochMs).toISOString();
}

function clip(text: string, max: number | undefined): string {
  // Cells hold ids, titles and file names: other control characters are shown escaped.
  const flat = escapeControls(text.replace(/[\r\n\t]+/g, ' '), false);
  if (max === undefined || flat.length <= max) return flat;
  return `${flat.slice(0, Math.max(0, max - 1))}…`;
}
