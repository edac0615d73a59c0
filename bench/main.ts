// `npm run bench -- <mode> [options]`. Modes (each prints one JSON row per line with --json):
//   engine    the anchor workload on a saga log         --log sqlite|postgres -c 64 --n 4000 [--thread]
//   servers   ingest on the real servers                 --plan default|adr|raw --log sqlite|postgres -c 8 --n 200 [--faults 0.01]
//   embedded  the README's first run, embedded profile   --corpus examples/corpus -c 8 [--plan adr]
//   recovery  N in-flight sagas, SIGKILL, time to finish --log sqlite|postgres --n 10000 [--workers 3]
//   memory    RSS after --first and --n no-op sagas       --log sqlite|postgres --n 1000000 --first 100000
//   corpus    writes --n bench documents (3 KB) as JSONL  --n 100000 --out corpus.jsonl (bench/throughput.sh)
//   reindex   reindex rate + write path during a migration (issue 25; several rows, bench/reindex.sh)
//             --profile servers|embedded [--docs 2000|1000] [--rates 4,16] [--reindex-c 4] [--writes 200]
//             [--writer-c 8] [--rounds 2] [--log postgres|sqlite] [--seed N]
//   reindex-openai  the reindex loop to the OpenAI-compatible embedder (local fake server): requests
//             per document and docs/s   --profile servers|embedded [--docs 200] [--rates 4,16]
// `bash bench/run-all.sh` runs them all (medians of 3) and regenerates BENCHMARKS.md.
import { parseArgs } from 'node:util';
import { benchEngine } from './engine.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    log: { type: 'string' }, // default sqlite; the reindex bench's default is postgres
    'pg-url': { type: 'string' },
    concurrency: { type: 'string', short: 'c', default: '1' },
    n: { type: 'string', default: '1000' },
    first: { type: 'string', default: '100000' },
    json: { type: 'boolean', default: false },
    thread: { type: 'boolean', default: false },
    plan: { type: 'string', default: 'default' },
    faults: { type: 'string', default: '0' },
    seed: { type: 'string' },
    corpus: { type: 'string', default: 'examples/corpus' },
    workers: { type: 'string', default: '1' },
    'lease-ms': { type: 'string', default: '30000' },
    target: { type: 'string', default: '' },
    out: { type: 'string', default: 'corpus.jsonl' },
    profile: { type: 'string', default: 'servers' },
    docs: { type: 'string' },
    rates: { type: 'string', default: '4,16' },
    'reindex-c': { type: 'string', default: '4' },
    writes: { type: 'string', default: '200' },
    'writer-c': { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
  },
});

const what = positionals[0] ?? 'engine';
const num = (s: string | undefined): number => Number(s);
const log = values.log === 'postgres' ? 'postgres' : 'sqlite';
const serversLog = values.log === 'postgres' || values.log === 'sqlite-thread' ? values.log : 'sqlite';

async function row(): Promise<object | null> {
  switch (what) {
    case 'engine':
      return benchEngine({
        log: values.log ?? 'sqlite',
        pgUrl: values['pg-url'],
        concurrency: num(values.concurrency),
        n: num(values.n),
        thread: values.thread,
      });
    case 'servers': {
      const { benchServers } = await import('./servers.js');
      const plan = values.plan === 'adr' || values.plan === 'raw' ? values.plan : 'default';
      return benchServers({
        plan,
        log: serversLog,
        concurrency: num(values.concurrency),
        n: num(values.n),
        faultRate: num(values.faults),
        ...(values.seed ? { seed: num(values.seed) } : {}),
      });
    }
    case 'embedded': {
      const { benchEmbedded } = await import('./embedded.js');
      return benchEmbedded({
        corpus: values.corpus ?? 'examples/corpus',
        concurrency: num(values.concurrency),
        plan: values.plan === 'adr' ? 'adr' : 'default',
      });
    }
    case 'recovery': {
      const { benchRecovery } = await import('./recovery.js');
      return benchRecovery({
        log,
        n: num(values.n),
        workers: num(values.workers),
        leaseMs: num(values['lease-ms']),
        concurrency: Math.max(1, num(values.concurrency)),
      });
    }
    case 'memory': {
      const { benchMemory } = await import('./memory.js');
      return benchMemory({ log, n: num(values.n), first: num(values.first), concurrency: num(values.concurrency) });
    }
    case 'corpus': {
      const { writeCorpus } = await import('./docs.js');
      return writeCorpus(values.out ?? 'corpus.jsonl', num(values.n), values.seed === undefined ? 1 : num(values.seed));
    }
    case 'reindex': {
      const { benchReindex } = await import('./reindex.js');
      const profile = values.profile === 'embedded' ? 'embedded' : 'servers';
      // Rows are printed as they are measured (a long run keeps what it measured if it dies).
      await benchReindex({
        profile,
        log: values.log === 'sqlite' ? 'sqlite' : 'postgres',
        docs: values.docs === undefined ? (profile === 'servers' ? 2000 : 1000) : num(values.docs),
        rates: (values.rates ?? '4,16').split(',').map(num),
        reindexConcurrency: num(values['reindex-c']),
        writes: num(values.writes),
        writerConcurrency: num(values['writer-c']),
        rounds: num(values.rounds),
        seed: values.seed === undefined ? Date.now() % 1_000_000 : num(values.seed),
        emit: (r) => console.log(values.json ? JSON.stringify(r) : JSON.stringify(r, null, 1)),
      });
      return null;
    }
    case 'reindex-openai': {
      const { benchReindexOpenAI } = await import('./reindex-openai.js');
      await benchReindexOpenAI({
        profile: values.profile === 'embedded' ? 'embedded' : 'servers',
        log: values.log === 'sqlite' ? 'sqlite' : 'postgres',
        docs: values.docs === undefined ? 200 : num(values.docs),
        rates: (values.rates ?? '4,16').split(',').map(num),
        seed: values.seed === undefined ? Date.now() % 1_000_000 : num(values.seed),
        emit: (r) => console.log(values.json ? JSON.stringify(r) : JSON.stringify(r, null, 1)),
      });
      return null;
    }
    case 'machine': {
      const { machineRow } = await import('./machine.js');
      return machineRow();
    }
    case 'recovery-victim': {
      const { recoveryVictim } = await import('./recovery.js');
      await recoveryVictim(values.target ?? '', num(values.n), num(values['lease-ms']));
      return {};
    }
    case 'recovery-worker': {
      const { recoveryWorker } = await import('./recovery.js');
      await recoveryWorker(values.target ?? '', num(values.concurrency));
      return {};
    }
    default:
      console.error(`unknown bench "${what}"; available: engine, servers, embedded, recovery, memory, reindex, reindex-openai`);
      process.exit(2);
  }
}

const r = await row();
if (r === null) {
  // printed its rows itself
} else if (values.json) console.log(JSON.stringify(r));
else console.log(JSON.stringify(r, null, 1));
process.exit(0);
