// `apex-memory serve` as a user runs it. Embedded profile: it runs the sagas itself; it refuses to
// listen off loopback without a token; SIGTERM lets a request in flight finish, then refuses new
// connections and exits 0. Servers profile (saga log on PostgreSQL): the API only enqueues and two
// `apex-memory worker` processes run the sagas; `?wait=` answers once a worker finished.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, embeddedEnv, ROOT, runCli, serversEnv } from '../support/cli.js';
import { realStores, type RealStores } from '../support/real-stores.js';
import { testServices } from '../support/services.js';

interface Proc {
  child: ChildProcess;
  out: () => string;
  exited: Promise<number | null>;
}

function start(args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, out: () => out, exited };
}

async function waitFor(what: string, p: Proc, re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(p.out());
    if (m) return m;
    if (Date.now() > deadline || p.child.exitCode !== null) assert.fail(`${what}: not seen; output:\n${p.out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<{ proc: Proc; url: string }> {
  const proc = start([...args, 'serve', '--port', '0', '--grace-ms', '5000'], env);
  const m = await waitFor('listening line', proc, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { proc, url: m[1] ?? '' };
}

const post = (url: string, body: unknown): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('apex-memory serve, embedded profile', () => {
  test('refuses to listen off loopback without a token (exit 2), before opening anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'apex-serve-'));
    const r = runCli(['--data-dir', dir, 'serve', '--host', '0.0.0.0', '--port', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /CLI_CONFIG.*refusing to listen on 0\.0\.0\.0.*token/);
  });

  test('runs sagas itself; SIGTERM lets the request in flight finish, then stops accepting and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apex-serve-'));
    const { proc, url } = await serve(['--data-dir', dir], embeddedEnv());
    try {
      const created = await post(`${url}/v1/documents?wait=10`, { id: 'one', title: 'One', text: 'Olga opened the first document.' });
      assert.equal(created.status, 201, await created.clone().text());
      // A request whose body is still arriving when SIGTERM comes: it must still get its answer.
      const body = JSON.stringify({ id: 'two', title: 'Two', text: 'Tomas sent the second document slowly.' });
      const u = new URL(`${url}/v1/documents?wait=10`);
      const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          {
            host: u.hostname,
            port: u.port,
            path: `${u.pathname}${u.search}`,
            method: 'POST',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on('error', reject);
        req.write(body.slice(0, 20));
        setTimeout(() => {
          proc.child.kill('SIGTERM');
          waitFor('drain line', proc, /SIGTERM: draining/, 10_000).then(
            () => req.end(body.slice(20)),
            (err: unknown) => reject(err as Error),
          );
        }, 300);
      });
      const r = await answer;
      assert.equal(r.status, 201, r.text);
      assert.equal(await proc.exited, 0, proc.out());
      await assert.rejects(fetch(`${url}/healthz`), 'no new connections after the drain');
      assert.match(proc.out(), /serve: stopped/);
    } finally {
      proc.child.kill('SIGKILL');
    }
  });
});

describe('apex-memory serve, servers profile with two workers (the API enqueues, workers run)', () => {
  let env: RealStores;
  let vars: Record<string, string>;
  const procs: Proc[] = [];
  before(async () => {
    env = await realStores('http_fleet', 15, { sagaLogOnPostgres: true });
    vars = serversEnv({ ...env.config, qdrantUrl: testServices().qdrantUrl });
  });
  after(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await env.close();
  });

  test('writes are queued and run by the workers; the answers wait for them', async () => {
    const { proc, url } = await serve([], embeddedEnv(vars));
    procs.push(proc);
    assert.match(proc.out(), /mode enqueue/);
    const workers = [0, 1].map(() => start(['worker', '--concurrency', '4', '--poll-ms', '50'], embeddedEnv(vars)));
    procs.push(...workers);
    const owners = await Promise.all(workers.map((w) => waitFor('worker owner', w, /owner (\S+)/).then((m) => m[1] ?? '')));
    const ids = Array.from({ length: 8 }, (_, i) => `fleet-${i}`);
    const answers = await Promise.all(
      ids.map((id) => post(`${url}/v1/documents?wait=30`, { id, title: id, text: `Document ${id} reached Helsinki through the fleet.` })),
    );
    for (const a of answers) assert.equal(a.status, 201, await a.clone().text());
    const list = (await (await fetch(`${url}/v1/sagas?limit=50`)).json()) as {
      sagas: Array<{ owner: string; status: string; docId: string }>;
    };
    const ran = list.sagas.filter((s) => ids.includes(s.docId));
    assert.equal(ran.length, ids.length);
    for (const s of ran) {
      assert.equal(s.status, 'completed');
      assert.ok(
        owners.some((o) => s.owner.startsWith(o.replace(/[),]+$/, ''))),
        `run by a worker, not the API: ${s.owner} vs ${owners.join(' ')}`,
      );
    }
    const doc = (await (await fetch(`${url}/v1/documents/fleet-3`)).json()) as { ingestionStatus: string; text: string };
    assert.equal(doc.ingestionStatus, 'committed');
    const verify = (await (await fetch(`${url}/v1/verify`, { method: 'POST' })).json()) as { violations: unknown[] };
    assert.deepEqual(verify.violations, []);
    for (const p of [proc, ...workers]) p.child.kill('SIGTERM');
    for (const p of [proc, ...workers]) assert.equal(await p.exited, 0, p.out());
  });
});
