// One-shot CLI runs push their metrics to a real Pushgateway (Debian package
// prometheus-pushgateway, on 127.0.0.1, no persistence): `ingest --pushgateway` its saga metrics
// (job apex_ingest), `verify --pushgateway` the drift gauge (job apex_verify). An unreachable
// gateway costs one stderr line, never the command's result.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliIn } from '../support/cli.js';
import { freePort } from '../support/prometheus.js';

test('ingest and verify push to a real Pushgateway; an unreachable one is a warning', { timeout: 90_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-push-'));
  const port = await freePort();
  const gateway = spawn('prometheus-pushgateway', [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'], {
    stdio: 'ignore',
  });
  const gone = new Promise<void>((r) => gateway.once('exit', () => r()));
  t.after(async () => {
    gateway.kill('SIGTERM');
    await gone;
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  for (
    const deadline = Date.now() + 20_000;
    !(await fetch(`${url}/-/ready`)
      .then((r) => r.ok)
      .catch(() => false));

  ) {
    if (gateway.exitCode !== null || Date.now() > deadline) assert.fail('pushgateway did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  const data = join(dir, 'data');
  writeFileSync(join(dir, 'a.md'), '# Alpha\n\nAlice met Bob in Paris.\n');
  writeFileSync(join(dir, 'b.md'), '# Beta\n\nCarol wrote to Dave.\n');

  const ingest = cliIn(data, ['ingest', join(dir, 'a.md'), join(dir, 'b.md'), '--no-progress', '--pushgateway', url]);
  assert.equal(ingest.code, 0, ingest.stderr);
  const verify = cliIn(data, ['verify', '--pushgateway', url]);
  assert.equal(verify.code, 0, verify.stderr);

  const text = await (await fetch(`${url}/metrics`)).text();
  assert.match(text, /^apex_saga_finished_total\{instance="",job="apex_ingest",outcome="completed",saga="ingest"\} 2$/m);
  assert.match(
    text,
    /^apex_store_request_duration_seconds_count\{[^}]*job="apex_ingest"[^}]*operation="putPending"[^}]*store="postgres"[^}]*\} 2$/m,
  );
  assert.match(text, /^apex_drift_violations\{instance="",job="apex_verify",kind="orphan_data"\} 0$/m);
  assert.match(text, /^apex_verify_last_run_timestamp_seconds\{instance="",job="apex_verify"\} \d/m);

  // A gateway that is not there: the command's own result stands, one line says why.
  const closed = await freePort();
  const offline = cliIn(data, ['verify', '--pushgateway', `http://127.0.0.1:${closed}`]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stderr, /pushgateway: metrics not pushed/);
  const bad = cliIn(data, ['verify', '--pushgateway', 'ftp://x']);
  assert.equal(bad.code, 2, 'a non-http URL is a usage error');
});
