// The ingest loop: reads documents in order and keeps at most `concurrency` writes in flight.
// Reading is paced by the writes (a slot must free up before the next document is read), so a
// huge input never piles up in memory. Bad input is tallied and the batch goes on.
import type { App } from '../app.js';
import { isDocumentError } from '../ingest/errors.js';
import { readDocuments, type SourceItem } from '../ingest/sources.js';
import type { WriteResult } from '../ingest/writer.js';
import { IngestTally } from './ingest-tally.js';

export interface IngestRunOptions {
  concurrency: number;
  /** Stop reading new documents (in-flight ones still finish). */
  signal?: AbortSignal;
  onItem?: (tally: IngestTally) => void;
  /** For tests: the stream read for "-". */
  stdin?: AsyncIterable<Buffer | string>;
}

export async function runIngest(app: App, inputs: string[], opts: IngestRunOptions): Promise<IngestTally> {
  const tally = new IngestTally();
  const inflight = new Set<Promise<void>>();
  const settled = (): void => opts.onItem?.(tally);
  const read = readDocuments(inputs, opts.stdin ? { stdin: opts.stdin } : {});
  for await (const item of read) {
    if (opts.signal?.aborted === true) break;
    if (!item.ok) {
      tally.addRejected(item.source, item.error);
      settled();
      continue;
    }
    const write: Promise<void> = writeOne(app, item, tally)
      .then(settled)
      .finally(() => inflight.delete(write));
    inflight.add(write);
    if (inflight.size >= opts.concurrency) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  tally.interrupted = opts.signal?.aborted === true;
  return tally.finish();
}

async function writeOne(app: App, item: Extract<SourceItem, { ok: true }>, tally: IngestTally): Promise<void> {
  let result: WriteResult;
  try {
    // The writer may refuse a document synchronously (too many chunks): same path as a rejection.
    result = await Promise.resolve().then(() => app.writer.ingest(item.doc));
  } catch (err) {
    if (isDocumentError(err)) tally.addRejected(item.source, err.source === undefined ? err.withSource(item.source) : err);
    else tally.addError(item.source, item.doc.id, err);
    return;
  }
  tally.addResult(item.source, result);
}

/**
 * How many items `inputs` yields (documents and bad inputs), for the progress total. Runs beside
 * the ingest; `stop()` ends it early. Never used for stdin, which can be read only once.
 */
export function countDocuments(inputs: string[]): { total: Promise<number | undefined>; stop(): void } {
  let stopped = false;
  const total = (async () => {
    let n = 0;
    for await (const _item of readDocuments(inputs)) {
      if (stopped) return undefined;
      n++;
    }
    return n;
  })().catch(() => undefined);
  return { total, stop: () => void (stopped = true) };
}
