// The document store and the saga log behind PgBouncer in transaction mode (APEX_PG_POOLER=
// transaction) with no DATABASE_DIRECT_URL, as docs/fleet.md says is enough: a small ingest,
// an update and a delete run through PgBouncer (the document store's migrations included), and a
// wire sniffer between the app and PgBouncer checks what reached the pooler: no startup parameter
// PgBouncer refuses (statement_timeout), no named prepared statement, no session-level SET, LISTEN
// or session advisory lock. The same sniffer in front of the server with no pooler setting must see
// the named statements and the statement_timeout startup parameter (so the checks can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openApp } from '../../src/app.js';
import { HashingEmbedder } from '../../src/ingest/embedder.js';
import { verifyStores } from '../../src/ingest/verify.js';
import { realStores } from '../support/real-stores.js';
import { requireServiceVar } from '../support/services.js';
import { sessionLevelStatements, startWireSniffer, type WireLog } from '../support/pg-wire-sniffer.js';
import { makeDoc } from '../fleet/harness.js';

// Startup parameters PgBouncer passes on without configuration (ignore_startup_parameters is empty).
const BOUNCER_PARAMS = new Set([
  'user',
  'database',
  'application_name',
  'client_encoding',
  'DateStyle',
  'TimeZone',
  'standard_conforming_strings',
]);

async function ingestThrough(viaBouncer: boolean): Promise<{ wire: WireLog; committed: number }> {
  const env = await realStores(viaBouncer ? 'pgb_ingest' : 'pgb_ingest_direct', 14, { sagaLogOnPostgres: true });
  const target = new URL(viaBouncer ? requireServiceVar('APEX_TEST_PGBOUNCER_URL') : env.databaseUrl);
  const sniffer = await startWireSniffer(target.hostname, Number(target.port));
  const sniffed = new URL(env.databaseUrl);
  sniffed.host = `127.0.0.1:${sniffer.port}`;
  const config = viaBouncer
    ? {
        ...env.config,
        databaseUrl: sniffed.toString(),
        sagaLogUrl: sniffed.toString(),
        sagaLogDirectUrl: env.databaseUrl,
        pgPooler: 'transaction' as const,
      }
    : { ...env.config, databaseUrl: sniffed.toString(), sagaLogUrl: sniffed.toString() };
  const app = await openApp({ config, embedder: new HashingEmbedder() });
  try {
    // The control run only needs the statements of one ingest.
    const docs = viaBouncer ? 3 : 1;
    for (let i = 0; i < docs; i++) assert.equal((await app.writer.ingest(makeDoc('pgb', i))).status, 'completed');
    if (viaBouncer) {
      const changed = makeDoc('pgb', 1);
      assert.equal((await app.writer.ingest({ ...changed, text: `${changed.text} Changed.` })).action, 'updated');
      assert.equal((await app.writer.delete(makeDoc('pgb', 2).id)).action, 'deleted');
    }
    const report = await verifyStores(app.stores);
    assert.deepEqual(report.violations, []);
    return { wire: sniffer.log, committed: report.committed };
  } finally {
    await app.close();
    await sniffer.close();
    await env.close();
  }
}

test(
  'PgBouncer (transaction mode), no direct URL for the document store: ingest, update and delete work and send nothing session-level',
  { timeout: 60_000 },
  async () => {
    const { wire, committed } = await ingestThrough(true);
    assert.equal(committed, 2, 'two documents committed through the pooler (one updated), one deleted');
    assert.ok(
      wire.queries.some((q) => /INSERT INTO documents|apex_put_pending|documents/i.test(q)),
      'the document store went through the sniffer',
    );
    assert.ok(
      wire.queries.some((q) => /pg_advisory_xact_lock/i.test(q)),
      "the document store's migrations ran through the pooler",
    );
    const refused = wire.startupParams.flat().filter((p) => !BOUNCER_PARAMS.has(p));
    assert.deepEqual([...new Set(refused)], [], 'no startup parameter PgBouncer refuses');
    assert.deepEqual([...new Set(wire.namedStatements)], [], 'no named prepared statement');
    assert.deepEqual(sessionLevelStatements(wire.queries), [], 'no session-level statement');
    console.log(`through PgBouncer: ${wire.startupParams.length} connection(s), ${wire.queries.length} statement(s) seen`);
  },
);

test('the sniffer sees what a direct connection sends (named statements, statement_timeout at startup)', { timeout: 60_000 }, async () => {
  const { wire } = await ingestThrough(false);
  assert.ok(wire.namedStatements.length > 0, "the saga log's group commits use named statements on a direct connection");
  assert.ok(wire.startupParams.flat().includes('statement_timeout'), 'the document store sends statement_timeout at startup');
  assert.ok(
    sessionLevelStatements(wire.queries).some((q) => /plan_cache_mode/.test(q)),
    'SET plan_cache_mode is seen',
  );
});
