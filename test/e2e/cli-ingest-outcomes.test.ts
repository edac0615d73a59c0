// The ingest loop the CLI runs (src/cli/ingest-run.ts), in-process so that a store fault can be
// injected: a document whose saga compensates is counted as compensated, reported with its saga
// and reason, makes the run not ok (exit 1), and leaves the stores consistent; the other
// documents of the batch are still written, and the loop never has more than `concurrency` in flight.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, type App } from '../../src/app.js';
import { runIngest } from '../../src/cli/ingest-run.js';
import { configFromEnv } from '../../src/config/profile.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { withFaults, type FaultControl } from '../../src/stores/faults.js';
import type { StoreSet } from '../../src/stores/types.js';

void describe('CLI ingest loop: outcomes and bounded concurrency', () => {
  let dir: string;
  let docs: string;
  let app: App;
  let raw: StoreSet | undefined;
  let qdrantFaults: FaultControl | undefined;
  let inFlight = 0;
  let maxInFlight = 0;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'apex-cli-outcomes-'));
    docs = join(dir, 'docs');
    mkdirSync(docs);
    for (let i = 0; i < 12; i++)
      writeFileSync(
        join(docs, `doc-${String(i).padStart(2, '0')}.md`),
        `# Doc ${i}\n\nAlice Martin wrote note ${i} about Redis Cluster.\n`,
      );
    app = await openApp({
      config: configFromEnv({}, join(dir, 'data')),
      embedder: new HashingEmbedder(),
      wrapStores: (stores) => {
        raw = stores;
        const q = withFaults(stores.qdrant, {});
        qdrantFaults = q.faults;
        return { ...stores, qdrant: q.store };
      },
      hooks: {
        onSagaStart: () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
        },
        onSagaEnd: () => void inFlight--,
      },
    });
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void test('one compensated document: counted, reported with its saga, run not ok; the rest written', async () => {
    // The 4th vector write fails permanently before applying: that document's saga compensates.
    qdrantFaults?.schedule({ method: 'writeVersion', skip: 3, times: 1, when: 'before', retryable: false });
    const tally = await runIngest(app, [docs], { concurrency: 3 });
    const s = tally.summary();
    assert.equal(s.compensated, 1);
    assert.equal(s.created, 11);
    assert.equal(s.stuck + s.rejected + s.errors, 0);
    assert.equal(s.latencyMs.sagas, 12, 'the compensated saga counts in the latency');
    assert.equal(tally.ok, false, 'a compensated document makes the exit code 1');
    const [failure, ...rest] = tally.failures;
    assert.equal(rest.length, 0);
    assert.equal(failure?.kind, 'compensated');
    assert.equal(failure?.code, 'STORE_INJECTED');
    assert.match(failure?.sagaId ?? '', /^[0-9a-f-]{36}$/);
    assert.match(failure?.source ?? '', /doc-\d\d\.md$/);
    assert.ok(maxInFlight >= 1 && maxInFlight <= 3, `at most 3 sagas at once (saw ${maxInFlight})`);
    assert.deepEqual((await verifyStores(raw as StoreSet)).violations, []);
  });

  void test('re-running the batch writes the compensated document and leaves the rest unchanged', async () => {
    const tally = await runIngest(app, [docs], { concurrency: 3 });
    const s = tally.summary();
    assert.deepEqual([s.created, s.unchanged, s.compensated], [1, 11, 0]);
    assert.equal(tally.ok, true);
    assert.equal(s.latencyMs.sagas, 1, 'unchanged documents ran no saga');
  });

  void test('an interrupted run stops reading and says so', async () => {
    const controller = new AbortController();
    controller.abort();
    const tally = await runIngest(app, [docs], { concurrency: 3, signal: controller.signal });
    assert.equal(tally.summary().interrupted, true);
    assert.equal(tally.processed, 0);
    assert.equal(tally.ok, false);
  });
});
