// A saga's log records as a table: one row per durable fact, in log order (seq).
import type { LogRecord } from '../saga/index.js';
import { renderTable } from './output.js';

export function renderTimeline(records: readonly LogRecord[]): string {
  return renderTable(
    [{ header: 'seq', align: 'right' }, { header: 'record' }, { header: 'step' }, { header: 'attempt', align: 'right' }, { header: 'detail', maxWidth: 100 }],
    records.map((r, seq) => [seq, r.type, 'step' in r ? r.step : '', 'attempt' in r ? r.attempt : '', detail(r)]),
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
