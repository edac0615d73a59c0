// The main CLI flows on the SERVERS profile: PostgreSQL, Neo4j, Redis and the Qdrant Edge front
// (Qdrant's own storage engine behind services/qdrant-edge), with the saga log on PostgreSQL. Each
// step is a real `apex-memory` child process configured through the environment, as a user would:
// ingest, get, search, update, delete, verify, repair, sagas retry / recover, and status with a
// store down. A handful of documents keeps it fast. The CLI talks to the front directly (the
// checking proxy lives in this process, which spawnSync blocks).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApp } from '../../src/app.js';
import type { ProfileConfig } from '../../src/config/profile.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { withFaults } from '../../src/stores/faults.js';
import type { StoreSet, WriteContext } from '../../src/stores/types.js';
import { json, runCli, serversEnv, type Run } from '../support/cli.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { testServices } from '../support/services.js';

interface IngestJson {
  ok: boolean;
  created: number;
  updated: number;
  unchanged: number;
  profile: { profile: string; sagaLog: string };
}
interface VerifyJson {
  ok: boolean;
  documents: number;
  committed: number;
  violations: Array<{ kind: string; store: string; docId: string }>;
}

const TEXTS: Record<string, string> = {
  'orion.md': '# Orion Relay\n\nThe Orion Relay forwards telemetry from Kepler Station to the Vega Archive every night.\n',
  'lumen.md': '# Lumen Harbor\n\nLumen Harbor keeps the shipping ledger of the Zanzibar Fleet in Redis Cluster.\n',
  'atlas.md': '# Atlas Grid\n\nAtlas Grid balances load between Neo4j replicas for the Helios Survey.\n',
  'delta.md': '# Delta Forge\n\nDelta Forge writes embeddings of Quasar Notes into Qdrant collections.\n',
};

void describe('apex-memory CLI, servers profile (PostgreSQL, Neo4j, Redis, Qdrant Edge front; saga log on PostgreSQL)', () => {
  let env: RealStores;
  let config: ProfileConfig;
  let docs: string;
  const cli = (args: string[], extra: Record<string, string> = {}): Run => runCli(args, { env: { ...serversEnv(config), ...extra } });

  before(async () => {
    env = await realStores('e2e_servers', 9, { sagaLogOnPostgres: true });
    config = { ...env.config, qdrantUrl: testServices().qdrantUrl };
    docs = join(config.dataDir, 'docs');
    mkdirSync(docs);
    for (const [name, text] of Object.entries(TEXTS)) writeFileSync(join(docs, name), text);
  });
  after(async () => {
    await env.close();
  });

  void test('ingest: every document created; the output names the servers profile and the PostgreSQL saga log', () => {
    const r = cli(['ingest', docs, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = json<IngestJson>(r);
    assert.deepEqual([s.ok, s.created, s.updated, s.unchanged], [true, 4, 0, 0]);
    assert.equal(s.profile.profile, 'servers');
    assert.match(s.profile.sagaLog, /^postgres /);
    assert.ok(!r.stdout.includes('apex:apex@'), 'no password in the output');
  });

  void test('get and search read the committed documents from the servers', () => {
    const get = cli(['get', 'lumen.md']);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^title:\s+Lumen Harbor$/m);
    assert.match(get.stdout, /^cached:\s+yes/m);
    const search = cli(['search', '--json', '--limit', '3', 'Orion', 'Relay', 'telemetry', 'Kepler', 'Station']);
    assert.equal(search.code, 0, search.stderr);
    const { hits } = json<{ hits: Array<{ id: string; entities: string[] }> }>(search);
    assert.equal(hits[0]?.id, 'orion.md', JSON.stringify(hits));
    assert.ok((hits[0]?.entities.length ?? 0) > 0, 'entities come from Neo4j');
  });

  void test('update: changed content runs an update saga; get shows the new version; verify is clean', () => {
    writeFileSync(join(docs, 'atlas.md'), '# Atlas Grid\n\nAtlas Grid now routes Helios Survey traffic through the Borealis Gateway.\n');
    const r = cli(['ingest', docs, '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const s = json<IngestJson>(r);
    assert.deepEqual([s.created, s.updated, s.unchanged], [0, 1, 3]);
    assert.match(cli(['get', 'atlas.md']).stdout, /Borealis Gateway/);
    const v = json<VerifyJson>(cli(['verify', '--json']));
    assert.deepEqual([v.ok, v.committed, v.violations], [true, 4, []]);
  });

  void test('delete: the document is gone from every store; verify is clean', () => {
    const del = cli(['delete', 'delta.md', '--json']);
    assert.equal(del.code, 0, del.stdout + del.stderr);
    assert.deepEqual(json<{ ok: boolean; action: string }>(del).ok, true);
    const get = cli(['get', 'delta.md']);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /not found \[CLI_NOT_FOUND\]/);
    const v = cli(['verify', '--json']);
    assert.equal(v.code, 0, v.stdout);
    assert.deepEqual([json<VerifyJson>(v).committed, json<VerifyJson>(v).violations], [3, []]);
  });

  void test('repair: points lost from Qdrant are found by verify and written again', async () => {
    const res = await fetch(`${config.qdrantUrl ?? ''}/collections/apex_chunks/points/delete?wait=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ filter: { must: [{ key: 'doc_id', match: { value: 'orion.md' } }] } }),
    });
    assert.equal(res.status, 200);
    const damaged = cli(['verify', '--json']);
    assert.equal(damaged.code, 1);
    assert.deepEqual(
      json<VerifyJson>(damaged).violations.map((x) => `${x.kind}:${x.store}:${x.docId}`),
      ['missing_version:qdrant:orion.md'],
    );
    const repair = cli(['repair', '--json']);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    assert.equal(json<{ ok: boolean }>(repair).ok, true);
    assert.equal(cli(['verify']).code, 0);
  });

  void test('a stuck saga: status exits 1; sagas retry finishes it; verify is clean', async () => {
    const app = await openApp({
      config,
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
    let sagaId = '';
    try {
      const r = await app.writer.ingest({
        id: 'stuck-1',
        title: 'Stuck',
        text: 'Alice Martin keeps stuck-1 in Redis Cluster.',
        metadata: {},
      });
      assert.equal(r.status, 'stuck', JSON.stringify(r));
      sagaId = r.sagaId ?? assert.fail('a stuck saga has an id');
    } finally {
      await app.close();
    }
    const status = cli(['status', '--json']);
    assert.equal(status.code, 1, 'a stuck saga needs an operator');
    assert.equal(json<{ sagas: Record<string, number> }>(status).sagas.stuck, 1);
    const retry = cli(['sagas', 'retry', sagaId]);
    assert.equal(retry.code, 0, retry.stdout + retry.stderr);
    assert.match(retry.stdout, /^status:\s+compensated$/m);
    assert.equal(cli(['verify']).code, 0);
  });

  void test('an abandoned saga (its process stopped mid-step): sagas recover finishes it; verify is clean', async () => {
    let started: () => void = () => undefined;
    const stepStarted = new Promise<void>((r) => (started = r));
    const app = await openApp({
      config,
      embedder: new HashingEmbedder(),
      wrapStores: (stores): StoreSet => {
        const hanging = Object.create(stores.qdrant) as StoreSet['qdrant'];
        hanging.writeVersion = (_v, ctx: WriteContext) => {
          started();
          return new Promise<void>((_ok, fail) => ctx.signal?.addEventListener('abort', () => fail(new Error('stopped')), { once: true }));
        };
        return { ...stores, qdrant: hanging };
      },
    });
    const pending = app.writer
      .ingest({ id: 'abandoned-1', title: 'Abandoned', text: 'Bob Stone left abandoned-1 half written.', metadata: {} })
      .catch(() => undefined);
    await stepStarted;
    await app.close(); // stops the saga where it is and releases its lease, as a shutdown would
    await pending;
    const rec = cli(['sagas', 'recover', '--json']);
    assert.equal(rec.code, 0, rec.stdout + rec.stderr);
    const out = json<{ claimed: number; completed: string[]; compensated: string[]; stuck: string[] }>(rec);
    assert.equal(out.claimed, 1);
    assert.equal(out.completed.length + out.compensated.length, 1);
    assert.equal(cli(['verify']).code, 0);
  });

  void test('status: all four servers healthy; with the Qdrant URL pointing nowhere, qdrant is DOWN and exit is 1', () => {
    const ok = cli(['status', '--json']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const healthy = json<{ ok: boolean; stores: Array<{ store: string; ok: boolean }> }>(ok);
    assert.deepEqual(
      healthy.stores.map((x) => [x.store, x.ok]),
      [
        ['postgres', true],
        ['neo4j', true],
        ['qdrant', true],
        ['redis', true],
      ],
    );
    const down = cli(['status', '--json'], { QDRANT_URL: 'http://127.0.0.1:1', APEX_STORE_TIMEOUT_MS: '2000' });
    assert.equal(down.code, 1, down.stderr);
    const report = json<{ ok: boolean; stores: Array<{ store: string; ok: boolean; detail: string }> }>(down);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.stores.map((x) => [x.store, x.ok]),
      [
        ['postgres', true],
        ['neo4j', true],
        ['qdrant', false],
        ['redis', true],
      ],
    );
  });
});
