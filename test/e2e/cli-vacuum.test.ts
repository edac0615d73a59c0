// `apex-memory vacuum` end to end, on the embedded profile, through the real CLI (docs/erasure.md,
// docs/cli.md "vacuum"): documents with unique tokens are ingested, one is deleted, and a queued
// ingest is cancelled (the cancel removes its staged content; the row a crash could leave behind
// is then planted, for vacuum to sweep). Then:
//   - vacuum removes the ended saga's staged content, VACUUMs PGlite (+ CHECKPOINT), VACUUMs each
//     SQLite file and truncates its WAL, the saga log's included; exit 0, `{ok, steps}` on stdout;
//   - no deleted or cancelled token is in any byte of a SQLite file, nor in a live PGlite row; the
//     kept document is intact;
//   - PGlite: plain VACUUM leaves the deleted bytes in the table files (measured, printed);
//     `vacuum --full` leaves them in the WAL segment only (pg_wal), as documented;
//   - a reader holding a SQLite file open keeps its WAL from truncating: that step fails, exit 1;
//     run again once it let go, exit 0.
// (Every version's erasure is the integration and crash tests' business; CLI runs are costly.)
// run-tests: beside
// (embedded profile in temp data dirs, no shared server: it runs beside the group's other files.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import Database from 'better-sqlite3';
import { cliIn } from '../support/cli.js';
import { found, tokenDoc, tokensOf } from '../support/erasure-scenario.js';
import { pgliteRows } from '../support/erasure-scans.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

interface VacuumJson {
  ok: boolean;
  steps: Array<{ target: string; done: string; ok: boolean }>;
}

test('vacuum: sweeps ended sagas staged content, VACUUMs PGlite and the SQLite files, truncates every WAL; exit codes', async () => {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'apex-vacuum-e2e-'));
  const dir = join(work, 'data');
  const cli = (args: string[]) => cliIn(dir, args);
  const tag = { deleted: randomBytes(6).toString('hex'), kept: randomBytes(6).toString('hex'), queued: randomBytes(6).toString('hex') };
  const tokens = {
    deleted: tokensOf(tag.deleted).slice(0, 4),
    kept: tokensOf(tag.kept).slice(4, 8),
    queued: tokensOf(tag.queued).slice(0, 4),
  };
  const jsonl = (name: string, docs: object[]): string => {
    const p = join(work, name);
    writeFileSync(p, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
    return p;
  };
  const r0 = cli(['ingest', jsonl('docs.jsonl', [tokenDoc('vac-del', tag.deleted, 0), tokenDoc('vac-keep', tag.kept, 1)])]);
  assert.equal(r0.code, 0, r0.stderr);
  // Queued, then cancelled before a worker ran it: ended, its staged content still there.
  const submitted = cli(['ingest', '--submit', jsonl('queued.jsonl', [tokenDoc('vac-queued', tag.queued, 0)]), '--json']);
  assert.equal(submitted.code, 0, submitted.stderr);
  const sagaId = (JSON.parse(submitted.stdout) as { sagas: Array<{ sagaId: string }> }).sagas[0]?.sagaId ?? '';
  const cancelled = cli(['sagas', 'cancel', sagaId, '--json']);
  assert.equal((JSON.parse(cancelled.stdout) as { status: string }).status, 'compensated', cancelled.stderr);
  assert.equal(cli(['delete', 'vac-del']).code, 0);

  const pgDir = join(dir, 'postgres');
  assert.deepEqual(found(await pgliteRows(pgDir), tokens.queued), [], "the cancel removed the queued saga's staged content");
  // What a crash between a saga's end and the removal of its staged content leaves (planted: the
  // window is one statement wide): a row of the ended saga. vacuum sweeps it.
  const db = await PGlite.create(pgDir);
  try {
    const doc = tokenDoc('vac-queued', tag.queued, 0);
    await db.query('INSERT INTO saga_inputs (saga_id, doc_id, content) VALUES ($1, $2, $3::jsonb)', [
      sagaId,
      doc.id,
      JSON.stringify({ title: doc.title, text: doc.text, metadata: doc.metadata }),
    ]);
  } finally {
    await db.close();
  }
  const rowsBefore = await pgliteRows(pgDir);
  assert.ok(found(rowsBefore, tokens.queued).length > 0, "the ended saga's staged content is there before vacuum");
  assert.deepEqual(found(rowsBefore, tokens.deleted), [], 'the delete removed every live row of the deleted document');
  const sqliteFiles = (): string[] => files(dir).filter((f) => !relative(dir, f).startsWith('postgres'));
  const pgHits = (which: readonly string[]): string[] =>
    files(pgDir).flatMap((f) => (found(readFileSync(f), which).length > 0 ? [relative(pgDir, f).replace(/\d+$/, 'N')] : []));
  const pgBefore = pgHits(tokens.deleted);

  const r = cli(['vacuum', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as VacuumJson;
  assert.equal(out.ok, true);
  const done = Object.fromEntries(out.steps.map((s) => [s.target.replace(/ \(.*$/, ''), s.done]));
  assert.equal(done.saga_inputs, 'removed the staged content of 1 ended saga(s)');
  assert.match(done.postgres ?? '', /^VACUUM documents, document_versions, chunks, saga_inputs, embedding_cache; CHECKPOINT$/);
  for (const target of ['neo4j', 'qdrant', 'redis', 'saga log']) assert.equal(done[target], 'VACUUM; WAL truncated', target);

  // Every WAL emptied (or gone), and no deleted or cancelled token in any byte of a SQLite file.
  for (const f of sqliteFiles().filter((f) => f.endsWith('-wal'))) assert.equal(statSync(f).size, 0, `${relative(dir, f)} truncated`);
  const bytes = (which: readonly string[]): string[] =>
    sqliteFiles().flatMap((f) => found(readFileSync(f), which).map((t) => `${relative(dir, f)}: ${t}`));
  assert.deepEqual(bytes([...tokens.deleted, ...tokens.queued]), []);
  assert.ok(bytes(tokens.kept).length > 0, "the byte scan finds the kept document's tokens (it can fail)");
  const rowsAfter = await pgliteRows(pgDir);
  assert.deepEqual(found(rowsAfter, [...tokens.deleted, ...tokens.queued]), [], 'no live row holds a deleted or cancelled token');
  assert.ok(!/saga_inputs:/.test(rowsAfter), 'no staged content left');
  assert.ok(found(rowsAfter, tokens.kept).length > 0, 'the kept document is intact');
  const pgPlain = pgHits(tokens.deleted);

  // A reader holding graph.db open (a long read) keeps its WAL from truncating: not done, exit 1.
  const reader = new Database(join(dir, 'graph.db'), { readonly: true });
  try {
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM sqlite_master').get();
    const busy = cli(['vacuum', '--json']);
    assert.equal(busy.code, 1, busy.stdout);
    const step = (JSON.parse(busy.stdout) as VacuumJson).steps.find((s) => s.target.startsWith('neo4j'));
    assert.equal(step?.ok, false);
    assert.match(step?.done ?? '', /WAL NOT truncated/);
  } finally {
    reader.exec('COMMIT');
    reader.close();
  }

  // Run again once the reader let go, with --full (rewrites the tables): done, and the deleted
  // bytes are then in PGlite's WAL segment only.
  const full = cli(['vacuum', '--full']);
  assert.equal(full.code, 0, full.stderr);
  assert.match(full.stdout, /VACUUM FULL documents, document_versions, chunks, saga_inputs, embedding_cache; CHECKPOINT/);
  assert.doesNotMatch(full.stdout, /FAILED/);
  const pgFull = pgHits(tokens.deleted);
  assert.deepEqual(
    pgFull.filter((f) => !f.startsWith('pg_wal/')),
    [],
    'after VACUUM FULL no PGlite table file holds a deleted token',
  );
  console.log(
    `PGlite files holding a deleted token: after the delete [${pgBefore.join(', ')}]; after vacuum [${pgPlain.join(', ')}]; after vacuum --full [${pgFull.join(', ')}]`,
  );
  console.log(`cli-vacuum: ${Date.now() - t0} ms`);
});
