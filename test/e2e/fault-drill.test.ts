// Fault drills (issue 21, item 5): APEX_INJECT_FAULTS works the same in `ingest`, `serve` and
// `worker`. Here the embedded profile: `ingest` with Qdrant failing once compensates that document
// and says it is a drill; `serve` names the drill in /readyz (and so on the dashboard banner) and a
// write through the API takes the injected failure (503 WRITE_COMPENSATED, nothing visible);
// `worker` takes the same failure; a bad spec is refused before anything opens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliIn, json } from '../support/cli.js';
import { spawnCli } from '../support/cli-async.js';

const QDRANT_ONCE = JSON.stringify({ qdrant: { failOn: [{ method: 'writeVersion', when: 'before', retryable: false, times: 1 }] } });

test('ingest: the drill fails Qdrant once, that document compensates, stderr says it is a drill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-drill-'));
  const file = join(dir, 'docs.jsonl');
  writeFileSync(file, `${JSON.stringify({ id: 'd-1', title: 'One', text: 'Dora drills.' })}\n`);
  const r = cliIn(join(dir, 'data'), ['ingest', '--json', '--no-progress', '-c', '1', file], { env: { APEX_INJECT_FAULTS: QDRANT_ONCE } });
  assert.match(r.stderr, /APEX_INJECT_FAULTS: injecting faults into qdrant \(a drill; never in production\)/);
  const out = json<{ compensated: number; failures: Array<{ docId: string; code: string }> }>(r);
  assert.equal(r.code, 1, 'a compensated document fails the run');
  assert.equal(out.compensated, 1);
  assert.deepEqual(
    out.failures.map((f) => [f.docId, f.code]),
    [['d-1', 'STORE_INJECTED']],
  );
  const again = cliIn(join(dir, 'data'), ['ingest', '--json', '--no-progress', file]);
  assert.doesNotMatch(again.stderr, /APEX_INJECT_FAULTS/, 'without the variable: no drill');
  assert.equal(again.code, 0, again.stderr);
  assert.equal(json<{ created: number }>(again).created, 1);
});

test('serve: /readyz names the drill; a write through the API takes the injected failure', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-drill-'));
  const proc = spawnCli(['--data-dir', dir, 'serve', '--port', '0'], { APEX_INJECT_FAULTS: QDRANT_ONCE });
  try {
    const url = (await proc.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1] ?? '';
    assert.match(proc.output(), /injecting faults into qdrant/);
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { faultDrill: { stores: string[] } | null };
    assert.deepEqual(ready.faultDrill, { stores: ['qdrant'] });
    const res = await fetch(`${url}/v1/documents?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'd-2', title: 'Two', text: 'Drilled write.' }),
    });
    const body = (await res.json()) as { code: string };
    assert.equal(res.status, 503);
    assert.equal(body.code, 'WRITE_COMPENSATED');
    const second = await fetch(`${url}/v1/documents?wait=10`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'd-2', title: 'Two', text: 'Drilled write.' }),
    });
    assert.equal(second.status, 201, 'the fault was scheduled once');
    await second.body?.cancel();
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
  const plain = spawnCli(['--data-dir', dir, 'serve', '--port', '0']);
  try {
    const url = (await plain.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1] ?? '';
    assert.equal(((await (await fetch(`${url}/readyz`)).json()) as { faultDrill: unknown }).faultDrill, null);
  } finally {
    plain.child.kill('SIGTERM');
    await plain.exited;
  }
});

test('a bad drill spec (unknown store) is refused by serve: exit 2, naming the variable, before listening', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-drill-'));
  const r = cliIn(dir, ['serve', '--port', '0'], { env: { APEX_INJECT_FAULTS: '{"qdrnt":{}}' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /APEX_INJECT_FAULTS: unknown store qdrnt/);
});
