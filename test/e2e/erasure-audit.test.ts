// Issue 23, the auditor's pass: places a deleted document's content could hide that the stores'
// and the saga log's own checks do not look at. The real `apex-memory ingest` and `serve` at debug
// log level (embedded profile): a document with unique tokens is ingested by the CLI, updated and
// written with an Idempotency-Key through the API, then deleted through the API. After that none of
// its tokens is in:
//   - the CLI's and the server's whole output (pino at debug: saga events, store errors);
//   - GET /metrics (every label and value);
//   - the dashboard's API answers (overview, the saga list, every saga's page, the document's
//     stores page) nor the replay of the idempotent write after the delete;
//   - any file of the data directory other than PGlite's (SQLite bytes; no temporary files);
// and the receipt says erased. The kept document's tokens are found where it lives (the scans can fail).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { BIN, cliIn, embeddedEnv, ROOT } from '../support/cli.js';
import { found, tokenDoc, tokensOf } from '../support/erasure-scenario.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

function serve(dir: string): { child: ChildProcess; out: () => string; url: Promise<string>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, '--data-dir', dir, 'serve', '--port', '0', '--grace-ms', '2000'], {
    cwd: ROOT,
    env: embeddedEnv({ APEX_LOG_LEVEL: 'debug' }),
  });
  let out = '';
  const url = new Promise<string>((resolve, reject) => {
    const seen = (d: Buffer): void => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out) ?? /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve(m[1] ?? '');
    };
    child.stdout?.on('data', seen);
    child.stderr?.on('data', seen);
    child.on('exit', (code) => reject(new Error(`serve exited (${code}) before listening:\n${out}`)));
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, url, exited };
}

test('auditor: after a delete, no token of it in CLI/server logs at debug, /metrics, dashboard answers, idempotent replays or data files', async () => {
  const t0 = Date.now();
  const work = mkdtempSync(join(tmpdir(), 'apex-audit-'));
  const dir = join(work, 'data');
  const tag = { deleted: randomBytes(6).toString('hex'), kept: randomBytes(6).toString('hex') };
  const deleted = tokensOf(tag.deleted).slice(0, 12); // versions 0..2
  const kept = tokensOf(tag.kept).slice(0, 4);

  // Version 0 of both, through the CLI at debug level.
  const file = join(work, 'docs.jsonl');
  writeFileSync(
    file,
    [tokenDoc('audit-del', tag.deleted, 0), tokenDoc('audit-keep', tag.kept, 0)].map((d) => JSON.stringify(d)).join('\n'),
  );
  const ingest = cliIn(dir, ['ingest', file], { env: { APEX_LOG_LEVEL: 'debug' } });
  assert.equal(ingest.code, 0, ingest.stderr);

  const server = serve(dir);
  let replay = '';
  const answers: string[] = [];
  try {
    const url = await server.url;
    const call = async (path: string, init: RequestInit = {}): Promise<Response> => {
      const res = await fetch(`${url}${path}`, init);
      answers.push(`${init.method ?? 'GET'} ${path} ${res.status}: ${await res.clone().text()}`);
      return res;
    };
    const write = (method: string, path: string, doc: object, key: string): Promise<Response> =>
      call(path, { method, headers: { 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(doc) });
    // Versions 1 and 2 through the API, with idempotency keys (the records the API keeps for them).
    const v1 = await write('PUT', '/v1/documents/audit-del?wait=10', tokenDoc('audit-del', tag.deleted, 1), 'audit-key-1');
    assert.equal(v1.status, 200, await v1.text());
    const v2 = tokenDoc('audit-del', tag.deleted, 2);
    assert.equal((await write('PUT', '/v1/documents/audit-del?wait=10', v2, 'audit-key-2')).status, 200);
    const del = await call('/v1/documents/audit-del?wait=10', { method: 'DELETE' });
    assert.equal(del.status, 200, await del.text());
    // The same request again after the delete (a client retry): answered from ids, it re-creates nothing.
    const again = await write('PUT', '/v1/documents/audit-del?wait=10', v2, 'audit-key-2');
    replay = `${again.status}: ${await again.text()}`;

    assert.equal((await call('/v1/documents/audit-del')).status, 404);
    const receipt = (await (await call('/v1/documents/audit-del/erasure')).json()) as { erased: boolean };
    assert.equal(receipt.erased, true, JSON.stringify(receipt));
    await call('/v1/documents/audit-del/stores');
    await call('/v1/documents/audit-keep/stores');
    assert.equal((await call('/v1/documents/audit-keep')).status, 200);
    await call('/v1/overview');
    const metrics = await call('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /apex_/);
    const list = (await (await call('/v1/sagas?limit=100')).json()) as { sagas: Array<{ sagaId: string }> };
    assert.ok(list.sagas.length >= 5, `the dashboard lists the sagas (${list.sagas.length})`);
    for (const s of list.sagas) assert.equal((await call(`/v1/sagas/${s.sagaId}`)).status, 200);
  } finally {
    server.child.kill('SIGTERM');
    assert.equal(await server.exited, 0, server.out());
  }

  const logs = `${ingest.stdout}\n${ingest.stderr}\n${server.out()}`;
  assert.match(server.out(), /saga completed/, 'the server logged the saga events (debug level)');
  assert.deepEqual(found(logs, [...deleted, ...kept]), [], 'logs hold no content of any document');
  const api = answers.join('\n');
  assert.deepEqual(found(api, deleted), [], "the API's answers hold no deleted token");
  assert.ok(found(api, kept).length > 0, "the kept document's answer shows its content (the scan can fail)");
  assert.deepEqual(found(replay, deleted), [], `the idempotent replay after the delete: ${replay}`);
  // The data directory: the known files only, and no deleted token in any byte outside PGlite's.
  const names = files(dir).map((f) => relative(dir, f));
  const others = names.filter((n) => !n.startsWith('postgres/') && !/^(graph|vectors|cache|saga-log)\.db(-wal|-shm)?$/.test(n));
  assert.deepEqual(others, [], 'no temporary or unexpected file in the data directory');
  const bytes = names
    .filter((n) => !n.startsWith('postgres/'))
    .flatMap((n) => found(readFileSync(join(dir, n)), deleted).map((t) => `${n}: ${t}`));
  assert.deepEqual(bytes, []);
  console.log(
    `erasure-audit: ${answers.length} API answers, ${logs.length} bytes of logs, ${Date.now() - t0} ms; replay ${replay.slice(0, 200)}`,
  );
});
