// Ingest progress on stderr. On a terminal: a redrawn bar. Anywhere else (CI logs, pipes): a plain
// line at most every 2 s, so a long run leaves a readable trail without flooding the log. The
// total may be unknown (stdin) or arrive late (counted in the background); both are shown as such.
// Documents waiting on a store that is down are shown too ("waiting on neo4j: 12"): an outage is
// ridden out, so the run pauses instead of failing, and the line says why.
import cliProgress from 'cli-progress';
import { formatStoreCounts, type StoreCounts } from '../ingest/store-waits.js';

export interface ProgressCounts {
  done: number;
  failed: number;
  /** Documents waiting now on a store that is down, by store. */
  waiting?: StoreCounts;
}

/** ", waiting on neo4j: 12" or "". */
export function waitingText(waiting: StoreCounts | undefined): string {
  const text = waiting ? formatStoreCounts(waiting) : '';
  return text === '' ? '' : `, waiting on ${text}`;
}

export interface Progress {
  setTotal(total: number): void;
  update(counts: ProgressCounts): void;
  stop(): void;
}

const LINE_INTERVAL_MS = 2_000;

export function createProgress(opts: { enabled: boolean; stream?: NodeJS.WriteStream }): Progress {
  const stream = opts.stream ?? process.stderr;
  if (!opts.enabled) return { setTotal: () => undefined, update: () => undefined, stop: () => undefined };
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

class BarProgress implements Progress {
  private readonly bar: cliProgress.SingleBar;
  private readonly startedAt = Date.now();
  private totalKnown = false;
  private last: ProgressCounts = { done: 0, failed: 0 };

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'ingest [{bar}] {value}/{totalText} docs | {failed} failed | {rate} docs/s | {duration_formatted}{waiting}',
        hideCursor: true,
        clearOnComplete: false,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    );
    // Until the count arrives the bar has no end; 1 keeps cli-progress from dividing by zero.
    this.bar.start(1, 0, { totalText: '?', failed: 0, rate: '0.0', waiting: '' });
  }

  setTotal(total: number): void {
    this.totalKnown = true;
    this.bar.setTotal(Math.max(total, 1));
    this.update(this.last);
  }

  update(counts: ProgressCounts): void {
    this.last = counts;
    const elapsedS = (Date.now() - this.startedAt) / 1000;
    if (!this.totalKnown) this.bar.setTotal(Math.max(counts.done + 1, 1));
    this.bar.update(counts.done, {
      totalText: this.totalKnown ? String(this.bar.getTotal()) : '?',
      failed: counts.failed,
      rate: elapsedS > 0 ? (counts.done / elapsedS).toFixed(1) : '0.0',
      waiting: waitingText(counts.waiting).replace(/^, /, ' | '),
    });
  }

  stop(): void {
    this.bar.stop();
  }
}

class LineProgress implements Progress {
  private total: number | undefined;
  private lastPrint = Date.now();
  private readonly startedAt = Date.now();

  constructor(private readonly stream: NodeJS.WriteStream) {}

  setTotal(total: number): void {
    this.total = total;
  }

  update(counts: ProgressCounts): void {
    const now = Date.now();
    if (now - this.lastPrint < LINE_INTERVAL_MS) return;
    this.lastPrint = now;
    const elapsedS = (now - this.startedAt) / 1000;
    const of = this.total === undefined ? '' : `/${this.total} (${Math.floor((100 * counts.done) / Math.max(this.total, 1))}%)`;
    const rate = (counts.done / elapsedS).toFixed(1);
    this.stream.write(
      `ingest: ${counts.done}${of} docs, ${counts.failed} failed, ${rate} docs/s, ${elapsedS.toFixed(0)} s${waitingText(counts.waiting)}\n`,
    );
  }

  stop(): void {
    // The summary follows; nothing to clean up for plain lines.
  }
}
