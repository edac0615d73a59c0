// Child of the erasure crash test (erasure-crash.test.ts): runs ONE delete of a document that holds
// unique tokens, counting the delete's durable boundaries -- after the saga-log begin and every
// append, before and after every store write (the staged-content removal included) -- and at
// boundary K prints "REACHED K <what>" and stops dead there (the parent SIGKILLs it). Past the last
// boundary it prints "DONE <status>". K = 0 counts only: it prints "BOUNDARY <what>" for each one.
// K may also be a boundary's name ("after neo4j.removeDocument": the first boundary of that name;
// "after log.append#5": the fifth), which does not depend on the order the parallel steps run in.
//
// Profile: CRASH_CONFIG (JSON ProfileConfig, the servers) or CRASH_DATA_DIR (the embedded profile;
// the child first ingests the document's versions itself, uncounted: PGlite admits one process).
import { openApp } from '../../src/app.js';
import type { ProfileConfig } from '../../src/config/profile.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import type { StoreSet } from '../../src/stores/types.js';
import { tokenDoc, VERSIONS } from '../support/erasure-scenario.js';

const [docId = 'doc', tag = 'tag', at = '0'] = process.argv.slice(2);
const killAt = /^\d+$/.test(at) ? Number(at) : at;
let counting = false;
let boundary = 0;
const named = new Map<string, number>();
const hang = new Promise<never>(() => undefined);

function reached(what: string): Promise<void> {
  if (!counting) return Promise.resolve();
  boundary++;
  const n = (named.get(what) ?? 0) + 1;
  named.set(what, n);
  if (killAt === 0) process.stdout.write(`BOUNDARY ${boundary} ${what}\n`);
  if (boundary !== killAt && what !== killAt && `${what}#${n}` !== killAt) return Promise.resolve();
  process.stdout.write(`REACHED ${boundary} ${what}\n`);
  return hang;
}

// Every method that changes a store (the reads are not durable boundaries).
const WRITES = /^(put|commit|write|upsert|remove|discard|mark|unmark|delete|acquire|release|finish|stage|drop|record)/;
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

const wrap = (s: StoreSet): StoreSet => ({
  postgres: counted(s.postgres, 'postgres'),
  neo4j: counted(s.neo4j, 'neo4j'),
  qdrant: counted(s.qdrant, 'qdrant'),
  redis: counted(s.redis, 'redis'),
});

const dataDir = process.env.CRASH_DATA_DIR;
const common = { embedder: new HashingEmbedder(), wrapStores: wrap, leaseMs: 60_000 };
const app =
  dataDir !== undefined
    ? await openApp({ ...common, env: {}, dataDir })
    : await openApp({ ...common, config: JSON.parse(process.env.CRASH_CONFIG ?? '{}') as ProfileConfig });
if (dataDir !== undefined) {
  for (let v = 0; v < VERSIONS; v++) {
    const r = await app.writer.ingest(tokenDoc(docId, tag, v));
    if (r.status !== 'completed') throw new Error(`set-up ingest v${v}: ${r.status}`);
  }
}
const log = app.profile.log;
for (const method of ['begin', 'append'] as const) {
  const original = log[method].bind(log) as (...a: unknown[]) => Promise<unknown>;
  (log as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
    const out = await original(...args);
    await reached(`after log.${method}`);
    return out;
  };
}
counting = true;
const r = await app.writer.delete(docId);
counting = false;
process.stdout.write(`DONE ${r.status}\n`);
await app.close();
