// A saga's log records as a table: one row per durable fact, in log order (seq), with the time the
// log stamped on it (whichever process wrote it) and the ms since the record before.
import type { LogRecord } from '../saga/index.js';
import { formatTime, renderTable } from './output.js';

export function renderTimeline(records: readonly LogRecord[], times: ReadonlyArray<number | null> = []): string {
  return renderTable(
    [
      { header: 'seq', align: 'right' },
      { header: 'at' },
      { header: '+ms', align: 'right' },
      { header: 'record' },
      { header: 'step' },
      { header: 'attempt', align: 'right' },
      { header: 'detail', maxWidth: 100 },
    ],
    records.map((r, seq) => {
      const at = times[seq] ?? null;
      const before = seq > 0 ? (times[seq - 1] ?? null) : null;
      return [
        seq,
        at === null ? '-' : formatTime(at),
        at !== null && before !== null ? at - before : '',
        r.type,
        'step' in r ? r.step : '',
        'attempt' in r ? r.attempt : '',
        detail(r),
      ];
    }),
  );
}

function detail(r: LogRecord): string {
  switch (r.type) {
    case 'step_failed':
    case 'compensation_failed':
      return `[${r.error.code}] ${r.error.message}${r.willRetry ? ' (will retry)' : ''}`;
    case 'status': {
      const base = r.reason ? `${r.status}: [${r.reason.code}] ${r.reason.message}` : r.status;
      return r.cancel ? `${base} · cancelled by ${r.cancel.by} at ${new Date(r.cancel.at).toISOString()}: ${r.cancel.message}` : base;
    }
    case 'step_succeeded':
      return r.output === null ? '' : JSON.stringify(r.output);
    default:
      return '';
  }
}
