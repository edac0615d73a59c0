// The steady writer of the reindex bench: a fixed number of writes at a fixed concurrency through
// the serving process's MemoryWriter, 4 of 5 an update of a seeded document (new content, so a new
// version to embed and, during a migration, to dual-write) and 1 of 5 a new document. The same
// seeded sequence of choices in every phase, so phases differ only in what runs beside them.
import { seededRandom } from '../src/saga/index.js';
import type { App } from '../src/app.js';
import type { ValidDocument } from '../src/ingest/schema.js';
import { benchDocs } from './docs.js';
import { load1 } from './reindex-setup.js';
import { pct } from './timing.js';

export interface WriterStats {
  /** Writes measured (fewer than asked when `stop` ended the phase early). */
  n: number;
  updates: number;
  creates: number;
  completed: number;
  /** Writes that did not complete (a status other than completed, or an error thrown). */
  errors: number;
  throughput_per_s: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  seconds: number;
  load_start: number;
  load_end: number;
}

/** A source of writes: updates of `base` documents and new documents, numbered across phases. */
export class WriteSource {
  private k = 0;
  private readonly rand: () => number;

  constructor(
    private readonly base: readonly ValidDocument[],
    private readonly prefix: string,
    seed: number,
  ) {
    if (base.length === 0) throw new Error('the steady writer needs seeded documents to update');
    this.rand = seededRandom(seed);
  }

  next(): { doc: ValidDocument; update: boolean } {
    const k = this.k++;
    if (k % 5 === 4) {
      const [fresh] = benchDocs(`${this.prefix}-new-${k}`, 1, k);
      if (!fresh) throw new Error('benchDocs returned nothing');
      return { doc: fresh, update: false };
    }
    const d = this.base[Math.floor(this.rand() * this.base.length)] ?? this.base[0];
    if (!d) throw new Error('no base document');
    // A sentence appended: one chunk changes, the others are the embedding cache's (as users edit).
    return { doc: { ...d, text: `${d.text} Revision ${k} by the steady writer.` }, update: true };
  }
}

/** Runs `count` writes at concurrency `c`; stops starting new ones once `stop()` says so. */
export async function runWriter(
  app: App,
  source: WriteSource,
  count: number,
  c: number,
  stop: () => boolean = () => false,
): Promise<WriterStats> {
  const load_start = load1();
  const lat: number[] = [];
  const tally = { updates: 0, creates: 0, completed: 0, errors: 0 };
  let started = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (started < count && !stop()) {
      started++;
      const { doc, update } = source.next();
      if (update) tally.updates++;
      else tally.creates++;
      const a = performance.now();
      try {
        const r = await app.writer.ingest(doc);
        if (r.status === 'completed') tally.completed++;
        else tally.errors++;
      } catch {
        tally.errors++;
      }
      lat.push(performance.now() - a);
    }
  };
  await Promise.all(Array.from({ length: c }, worker));
  const wall = (performance.now() - t0) / 1000;
  lat.sort((x, y) => x - y);
  return {
    n: lat.length,
    ...tally,
    throughput_per_s: +(lat.length / Math.max(wall, 1e-9)).toFixed(2),
    p50_ms: pct(lat, 0.5),
    p90_ms: pct(lat, 0.9),
    p99_ms: pct(lat, 0.99),
    seconds: +wall.toFixed(2),
    load_start,
    load_end: load1(),
  };
}
