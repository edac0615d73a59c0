// Child of the ingest crash matrix: runs ONE write (ingest, update or delete) of one document on
// the servers profile, counting its durable boundaries — after each saga-log append, before and
// after each store write — and at boundary K prints "REACHED K <what>" and stops dead (the parent
// SIGKILLs it there). Past the last boundary it prints "DONE <status>". With CRASH_FAIL=qdrant the
// Qdrant upsert fails permanently after applying, so the saga compensates and the boundaries run
// on into its compensations.
import { openApp } from '../../src/app.js';
import type { ProfileConfig } from '../../src/config/profile.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import type { IngestPlan } from '../../src/ingest/sagas/ingest-saga.js';
import { withFaults } from '../../src/stores/faults.js';
import type { StoreSet } from '../../src/stores/types.js';

const config = JSON.parse(process.env.CRASH_CONFIG ?? '{}') as ProfileConfig;
const [op = 'ingest', docId = 'doc', text = 'text', at = '0', plan = 'default'] = process.argv.slice(2);
const killAt = Number(at);
let boundary = 0;
const hang = new Promise<never>(() => undefined);

function reached(what: string): Promise<void> {
  boundary++;
  if (boundary !== killAt) return Promise.resolve();
  process.stdout.write(`REACHED ${boundary} ${what}\n`);
  return hang;
}

const WRITES = /^(put|commit|write|upsert|remove|discard|mark|unmark|delete|acquire|release|finish)/;
function counted<T extends object>(store: T, name: string): T {
  return new Proxy(store, {
    get(t, prop, recv) {
      const v: unknown = Reflect.get(t, prop, recv);
      if (typeof v !== 'function' || typeof prop !== 'string' || !WRITES.test(prop)) return v;
      return async (...args: unknown[]) => {
        await reached(`before ${name}.${prop}`);
        const out: unknown = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
        await reached(`after ${name}.${prop}`);
        return out;
      };
    },
  });
}

function wrap(stores: StoreSet): StoreSet {
  const qdrant =
    process.env.CRASH_FAIL === 'qdrant'
      ? withFaults(stores.qdrant, { failOn: [{ method: 'writeVersion', when: 'after', retryable: false, times: 1000 }] }).store
      : stores.qdrant;
  return {
    postgres: counted(stores.postgres, 'postgres'),
    neo4j: counted(stores.neo4j, 'neo4j'),
    qdrant: counted(qdrant, 'qdrant'),
    redis: counted(stores.redis, 'redis'),
  };
}

const app = await openApp({ config, embedder: new HashingEmbedder(), wrapStores: wrap, plan: plan as IngestPlan, leaseMs: 60_000 });
const log = app.profile.log;
for (const method of ['begin', 'append'] as const) {
  const original = log[method].bind(log) as (...a: unknown[]) => Promise<unknown>;
  (log as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    const out = await original(...args);
    await reached(`after log.${method}`);
    return out;
  };
}
const r =
  op === 'delete' ? await app.writer.delete(docId) : await app.writer.ingest({ id: docId, title: `Crash ${docId}`, text, metadata: {} });
process.stdout.write(`DONE ${r.status}\n`);
await app.close();
