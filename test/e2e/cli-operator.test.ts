// Operator commands on real trouble. A stuck saga is made in-process (the vector store refuses the
// write, then refuses to undo it until the compensation retries run out); the CLI, as a child
// process on the same data dir, must show it (status exit 1, sagas list, verify's violations)
// and `sagas retry` must finish it. A saga abandoned mid-step by its process (lease released) must
// be finished by `sagas recover`. Both end with `verify` clean.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp } from '../../src/app.js';
import { configFromEnv } from '../../src/config/profile.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { withFaults } from '../../src/stores/faults.js';
import type { StoreSet, WriteContext } from '../../src/stores/types.js';
import { cliIn as cli, json } from '../support/cli.js';

const doc = (id: string) => ({ id, title: `Operator case ${id}`, text: `Alice Martin keeps ${id} in Redis Cluster.`, metadata: {} });

void describe('apex-memory sagas retry / recover on real stuck and abandoned sagas', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'apex-cli-operator-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void test('a stuck saga: status exit 1, listed, verify lists its violations; sagas retry finishes it', async () => {
    const app = await openApp({
      config: configFromEnv({}, dir),
      embedder: new HashingEmbedder(),
      wrapStores: (stores) => {
        const q = withFaults(stores.qdrant, {
          failOn: [
            { method: 'writeVersion', when: 'before', retryable: false, times: 1 },
            { method: 'removeVersion', when: 'before', retryable: true, times: 1000 },
          ],
        });
        return { ...stores, qdrant: q.store };
      },
    });
    let sagaId: string | undefined;
    try {
      const r = await app.writer.ingest(doc('stuck-1'));
      assert.equal(r.status, 'stuck', JSON.stringify(r));
      sagaId = r.sagaId;
    } finally {
      await app.close();
    }
    assert.ok(sagaId);

    const status = cli(dir, ['status', '--json']);
    assert.equal(status.code, 1, 'a stuck saga needs an operator');
    assert.equal(json<{ sagas: Record<string, number> }>(status).sagas.stuck, 1);
    const listed = json<{ sagas: Array<{ sagaId: string; reason: { code: string } | null }> }>(
      cli(dir, ['sagas', 'list', '--status', 'stuck', '--json']),
    );
    assert.deepEqual(
      listed.sagas.map((s) => s.sagaId),
      [sagaId],
    );
    assert.equal(listed.sagas[0]?.reason?.code, 'STORE_INJECTED');

    const verify = cli(dir, ['verify']);
    assert.equal(verify.code, 1);
    assert.match(verify.stdout, /^not_final\s+postgres\s+stuck-1\s+ingestion_status 'pending'/m);
    assert.match(verify.stdout, /verify: FAILED, \d+ violation\(s\)/);

    const retry = cli(dir, ['sagas', 'retry', sagaId]);
    assert.equal(retry.code, 0, retry.stdout + retry.stderr);
    assert.match(retry.stdout, /^status:\s+compensated$/m);
    assert.equal(cli(dir, ['verify']).code, 0);
  });

  void test('an abandoned saga (its process stopped mid-step): sagas recover finishes it', async () => {
    let started: () => void = () => undefined;
    const stepStarted = new Promise<void>((r) => (started = r));
    const app = await openApp({
      config: configFromEnv({}, dir),
      embedder: new HashingEmbedder(),
      wrapStores: (stores): StoreSet => {
        // The vector write never returns until the engine stops this process's work.
        const hanging = Object.create(stores.qdrant) as StoreSet['qdrant'];
        hanging.writeVersion = (_v, ctx: WriteContext) => {
          started();
          return new Promise<void>((_ok, fail) => ctx.signal?.addEventListener('abort', () => fail(new Error('stopped')), { once: true }));
        };
        return { ...stores, qdrant: hanging };
      },
    });
    const pending = app.writer.ingest(doc('abandoned-1')).catch(() => undefined);
    await stepStarted;
    await app.close(); // stops the saga where it is and releases its lease, as a shutdown would
    await pending;

    const rec = cli(dir, ['sagas', 'recover', '--json']);
    assert.equal(rec.code, 0, rec.stdout + rec.stderr);
    const out = json<{ claimed: number; completed: string[]; compensated: string[]; stuck: string[] }>(rec);
    assert.equal(out.claimed, 1);
    assert.equal(out.completed.length + out.compensated.length, 1);
    assert.deepEqual(out.stuck, []);
    const verify = cli(dir, ['verify', '--json']);
    assert.equal(verify.code, 0, verify.stdout);
  });
});
