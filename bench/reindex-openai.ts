// The reindex loop to the OpenAI-compatible embedder (issue 25, third row): a corpus seeded at
// hashing-256 reindexed to `--embedder openai` against the local fake server of
// bench/embed-requests.ts (100 ms per request + 1 ms per input, answers side by side), once per
// concurrency, each run abandoned afterwards. Reports embedding requests and inputs per document
// (concurrent reindex sagas' chunks share requests through the coalescer) and documents/s.
import { rollbackReindex, startReindex } from '../src/ingest/reindex/control.js';
import { runReindex } from '../src/ingest/reindex/run.js';
import { CHUNKING_VERSION } from '../src/ingest/reindex/state.js';
import { startFakeEmbeddings } from '../test/support/fake-embeddings.js';
import { benchDocs } from './docs.js';
import { controlDeps, indexOf, ingestAll, load1, openReindexSetup, type ReindexProfile } from './reindex-setup.js';

export interface ReindexOpenAIOptions {
  profile: ReindexProfile;
  log: 'sqlite' | 'postgres';
  docs: number;
  rates: number[];
  seed: number;
  emit: (row: Record<string, unknown>) => void;
}

const MS_PER_REQUEST = 100;
const MS_PER_INPUT = 1;

export async function benchReindexOpenAI(opts: ReindexOpenAIOptions): Promise<void> {
  const fake = await startFakeEmbeddings({ dimension: 64, msPerRequest: MS_PER_REQUEST, msPerInput: MS_PER_INPUT });
  try {
    const setup = await openReindexSetup(opts.profile, opts.log, { OPENAI_BASE_URL: fake.url });
    try {
      const app = setup.reindexApp;
      await ingestAll(setup.app, benchDocs(`rxo${opts.seed}`, opts.docs, opts.seed), 16);
      const deps = controlDeps(app);
      const index = indexOf(app);
      for (const c of opts.rates) {
        const started = await startReindex(deps, {
          embedder: 'openai',
          // A model per run: the embedding cache is keyed by model, so a second run of the same
          // model would find every vector cached and send no request (the c=16 row of the first
          // quiet run: 0 requests).
          model: `fake-embedding-c${c}`,
          dimension: fake.dimension,
          chunking: CHUNKING_VERSION,
        });
        if (!started.state.next) throw new Error('no next target after start');
        fake.reset();
        const l = load1();
        const s = await runReindex(
          { stores: app.stores, engine: app.engine, def: index.reindexDef },
          index.targets.bind(started.state.next),
          {
            concurrency: c,
          },
        );
        if (s.failed.length > 0 || s.unsettled > 0)
          throw new Error(`reindex to openai c=${c}: ${s.failed.length} failed, ${s.unsettled} not current`);
        opts.emit({
          bench: 'reindex',
          profile: opts.profile,
          name: `reindex openai ${opts.profile}`,
          concurrency: c,
          n: s.reindexed,
          throughput_per_s: +(s.reindexed / Math.max(s.seconds, 1e-9)).toFixed(2),
          seconds: +s.seconds.toFixed(2),
          requests: fake.requests,
          inputs: fake.inputs,
          requests_per_doc: +(fake.requests / Math.max(1, s.reindexed)).toFixed(3),
          inputs_per_doc: +(fake.inputs / Math.max(1, s.reindexed)).toFixed(2),
          provider: `fake, ${MS_PER_REQUEST} ms per request + ${MS_PER_INPUT} ms per input, dimension ${fake.dimension}`,
          load_start: l,
          load_end: load1(),
        });
        await rollbackReindex(deps);
      }
    } finally {
      await setup.close();
    }
  } finally {
    await fake.close();
  }
}
