// Fleet mode through the CLI on the embedded profile: `ingest --submit` queues the sagas,
// `worker` claims and runs them, SIGTERM stops it cleanly, and verify finds the stores agreeing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, cliIn as cli, embeddedEnv, ROOT } from '../support/cli.js';

test('ingest --submit queues, a worker runs the queue, SIGTERM stops it, verify is clean', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apex-submit-'));
  const submitted = cli(dir, ['ingest', '--submit', '--json', 'examples/corpus/graphs']);
  assert.equal(submitted.code, 0);
  const s = JSON.parse(submitted.stdout) as { queued: number; rejected: number };
  assert.ok(s.queued > 10);
  assert.equal(s.rejected, 0);
  const pending = JSON.parse(cli(dir, ['sagas', 'list', '--status', 'pending', '--json']).stdout) as { sagas: unknown[] };
  assert.equal(pending.sagas.length, s.queued, 'all queued, none run yet');

  const worker = spawn(process.execPath, [BIN, '--data-dir', dir, 'worker', '--concurrency', '8', '--status-ms', '500'], {
    cwd: ROOT,
    env: embeddedEnv(),
  });
  let out = '';
  worker.stdout.on('data', (d: Buffer) => (out += d.toString()));
  worker.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => worker.on('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!new RegExp(`completed ${s.queued}\\b`).test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  worker.kill('SIGTERM');
  assert.equal(await exited, 0, `worker output:\n${out}`);
  assert.match(out, new RegExp(`completed ${s.queued}\\b`));

  const verify = JSON.parse(cli(dir, ['verify', '--json']).stdout) as { committed: number; violations: unknown[] };
  assert.equal(verify.committed, s.queued);
  assert.deepEqual(verify.violations, []);
});
